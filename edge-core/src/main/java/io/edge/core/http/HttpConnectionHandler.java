package io.edge.core.http;

import io.edge.aio.file.FileEngine;
import io.edge.conf.ErrorPage;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.conf.VariableText;
import io.edge.core.route.Route;
import io.edge.core.tls.ClientCertificates;
import io.edge.core.tls.ClientVerification;
import io.edge.fastcgi.LogText;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.InvalidPathException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the exchanges of one client connection, one at a time and in request order.
 *
 * <p>Pipelined requests that arrive while an exchange runs are held (with their bodies) and reading stops
 * until the running exchange completes, so memory per connection stays bounded. Body bytes of a request
 * whose exchange already completed are counted against the body limit and dropped.
 *
 * <p>Nor does a client that does not read its answers get more: while the channel is not writable (its unsent
 * bytes above the high water mark), no request starts and reading stops; both resume when the client has read
 * enough ({@link #channelWritabilityChanged}). Otherwise a client that pipelines requests and never reads would
 * have their answers pile up in memory (nginx likewise handles the next pipelined request only once the current
 * answer has left its buffers). The write timeout then ends a client that reads nothing at all.
 *
 * <p>Requests answered at once (an error, a cached file) are started one after another by one loop
 * ({@link #startPipelined}), never by nesting: an exchange that completes while it is being started only ends
 * there, and the loop further up the stack starts the next. Thousands of pipelined 404s stay flat on the stack.
 *
 * <p>Only the running exchange writes, so a {@code 100 Continue} it sends ({@link ServerExchange#readBody}) follows
 * the end of every earlier response and precedes its own.
 *
 * <p>On HTTP/2 one runs on each stream's channel, the stream's one request ({@link Http2Connection}): what is HTTP/1's
 * alone, keep-alive, pipelining, a lingering close, the client's half-close, is then left out (the stream closes once
 * its answer is out, or is reset where it ends early), and the connection's serial number and request count are the
 * HTTP/2 connection's.
 *
 * <p>Runs on the connection's event loop only; no locking.
 */
final class HttpConnectionHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(HttpConnectionHandler.class);
    /** The last connection's serial number ({@link #serial}). */
    private static final AtomicLong SERIALS = new AtomicLong();
    private static final ThrottledWarnings OUT_OF_MEMORY = new ThrottledWarnings(LOG, System::nanoTime);
    private static final AtomicBoolean UNNAMEABLE_LOGGED = new AtomicBoolean();
    /** The response cache's purge (its responder, in io.edge.core.cache, takes it). */
    private static final HttpMethod PURGE = HttpMethod.valueOf("PURGE");
    /**
     * Request fields that hold one value, not a list (RFC 9110 5.3 forbids sending them twice), which edge reads, and
     * which nginx refuses to get twice ("client sent duplicate header line"): a second one is a 400, as which of the two
     * a cache or proxy in front read is anyone's guess. Host, Content-Length and Transfer-Encoding are checked apart. Not
     * here, though nginx 1.22.1 refuses them twice too: If-Match and If-None-Match, lists that may come in several lines.
     */
    private static final List<AsciiString> SINGLE_VALUE_FIELDS = List.of(HttpHeaderNames.IF_MODIFIED_SINCE,
            HttpHeaderNames.IF_UNMODIFIED_SINCE, HttpHeaderNames.IF_RANGE, HttpHeaderNames.CONTENT_RANGE,
            HttpHeaderNames.AUTHORIZATION); // two: which one a password check took, PHP would not know (nginx: 400)

    private final HttpServerContext server;
    private final RequestTimeouts timeouts;
    /** How the connection closes after a response that ends it. */
    private final LingeringClose closing;
    private final LongPredicate chunkedBodyLimit;
    /** The connection came to a listener marked ssl: its pipeline ends TLS. */
    private final boolean endsTls;
    /** The HTTP/2 or HTTP/3 connection whose stream this handler runs, or null on HTTP/1. */
    private final StreamedConnection h2;
    /** The Alt-Svc field of the listener's answers over TCP, where it takes HTTP/3 too; else null. */
    private String altSvc;
    /** The client's connection: the channel itself, or on HTTP/2 the stream's parent. */
    private Channel clientConnection;
    private final ArrayDeque<HttpObject> pipelined = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    /** The address of server.listen the connection was accepted on ({@link HttpServerContext#listenAddress}). */
    private InetSocketAddress listenAddress;
    /** Whether a reload dropped that listener ({@link HttpServerContext#listenerDrop}). */
    private HttpServerContext.ListenerDrop listenerDrop;
    private ServerExchange current;
    /** The routes {@link #current} runs on, counted in until its last write ends or the connection closes. */
    private Routes currentRoutes;
    /** Body bytes received for the request most recently read from the socket. */
    private long bodyBytes;
    private boolean closeAfterCurrent;
    /** An error was answered outside any exchange ({@link #writeErrorThatCloses}), the connection closing after it. */
    private boolean answeredOutside;
    /** The connection failed on an I/O error (its client reset it): see {@link #headCut}. */
    private boolean clientReset;
    /** Requests started on this connection, the running one too. */
    private long started;
    /** nginx's {@code $connection}: this connection's serial number, among every connection of the process. */
    private final long serial;
    /** The decoder ({@link StrictHttpServerCodec#received}), or null where a test has none. */
    private StrictHttpServerCodec codec;
    /**
     * Where in what the connection received each queued request's bytes begin and (so far) end ({@link #pipelined}'s
     * requests in order): handed to its exchange as it starts. The running exchange's end moves on with its body.
     */
    private ArrayDeque<long[]> queuedSpans;
    /** The client sent its last byte ({@link #inputClosed}): the connection closes once nothing runs or waits. */
    private boolean inputClosed;
    /** The request most recently read announced a body whose end has not come yet. */
    private boolean bodyPending;
    /** The request most recently read was dropped (the connection closes after the current one): so is its body. */
    private boolean discardingBody;
    /**
     * The client may well be sending more as the connection closes: bytes it sent were dropped unanswered (requests
     * read once the close was decided, their bodies, a request or a body that could not be read, what follows a
     * CONNECT), or a request was refused with a status that closes (400, 413...), as a client sends more without
     * waiting for the answer to learn it went wrong.
     */
    private boolean moreMayCome;
    /**
     * A queued request's body failed (malformed, over the limit, silent): the requests queued before it are still
     * answered, then it with its error, then the connection closes; nothing read after it is taken.
     */
    private boolean streamFailed;
    /** The last write of the newest response ended ({@link #exchangeDone}), or null before the first. */
    private ChannelFuture responseEnd;
    /**
     * Why the client is not read from: requests wait behind the running one (pipelining), or the running exchange
     * asked ({@link #pauseBody}). Reading resumes only when neither holds: each reason is undone by its own owner.
     */
    private boolean pausedForPipelining;
    private boolean pausedForBody;
    /** Reading stopped because the channel was not writable when a request could have started. */
    private boolean pausedForWrites;
    /**
     * The last write of an answer whose exchange holds a place until it is written (a limit-conn's), while it is under
     * way: no request starts before, as nginx frees a request's place before it reads the next one pipelined.
     */
    private ChannelFuture heldUntilWritten;
    /** The connection is a tunnel's ({@link #upgrade}): the HTTP/1 handlers are gone, the tunnel reads. */
    private boolean upgraded;
    /** {@link #startPipelined} is running further up the stack: an exchange ending now leaves the next to it. */
    private boolean startingPipelined;
    /** The client certificate's check this connection's requests waited for, once one did. */
    private CompletableFuture<ClientVerification> certificateCheck;
    /** The pending output as the last write-timeout event saw it ({@link #movedSinceLastLook}). */
    private int lookedMessage;
    private long lookedPending = -1;
    private long lookedProgress;

    /**
     * @param chunkedBodyLimit told the body limit of a request as it starts, while its body is the one the codec reads;
     *                         true if the chunk sizes it read already declared more
     *                         ({@link StrictHttpServerCodec#limitChunkedBody})
     */
    HttpConnectionHandler(HttpServerContext server, RequestTimeouts timeouts, LingeringClose closing,
            LongPredicate chunkedBodyLimit, boolean endsTls) {
        this(server, timeouts, closing, chunkedBodyLimit, endsTls, null);
    }

    /** The handler of a stream of {@code h2}, an HTTP/2 or HTTP/3 connection (null: of an HTTP/1 connection). */
    HttpConnectionHandler(HttpServerContext server, RequestTimeouts timeouts, LingeringClose closing,
            LongPredicate chunkedBodyLimit, boolean endsTls, StreamedConnection h2) {
        this.server = server;
        this.endsTls = endsTls;
        this.timeouts = timeouts;
        this.closing = closing;
        this.chunkedBodyLimit = chunkedBodyLimit;
        this.h2 = h2;
        this.serial = h2 == null ? nextSerial() : h2.serial();
    }

    /** A new connection's serial number ({@link #serial}). */
    static long nextSerial() {
        return SERIALS.incrementAndGet();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        clientConnection = h2 == null ? ctx.channel() : ctx.channel().parent();
        listenAddress = HttpServerContext.listenAddress(clientConnection);
        listenerDrop = HttpServerContext.listenerDrop(clientConnection);
        if (endsTls) { // a connection over TCP to a listener marked quic tells of HTTP/3 there (null on QUIC's own)
            altSvc = HttpServerContext.altSvc(clientConnection);
        }
        codec = ctx.pipeline().get(StrictHttpServerCodec.class);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            if (request.decoderResult().cause() instanceof PrematureChannelClosureException) {
                // Netty's stand-in for a head whose request line was read when the client's FIN or reset came (its
                // decoder's decodeLast): not a request to answer, a head cut, logged so once the connection closes
                // (headCut), as a head cut before its line ended is. Answered, it was a 400 page to a client
                // that had half-closed, and behind a kept connection's answered request, reset, neither answered nor
                // logged (it waited, queued, for a channel that was closed).
                ReferenceCountUtil.release(msg);
                return;
            }
            bodyBytes = 0;
            discardingBody = closeAfterCurrent || streamFailed;
            bodyPending = request.decoderResult().isSuccess() && Exchange.announcesBody(request);
            if (bodyPending) {
                timeouts.bodyStarted();
            }
            if (closeAfterCurrent || streamFailed) {
                moreMayCome = true;
                ReferenceCountUtil.release(msg);
            } else if (current == null && pipelined.isEmpty() && mayStart()) {
                start(request, receivedFrom(), received());
                if (current != null) {
                    // routed: its chunk-size lines are held to its location's limit, not to the largest of all (none
                    // is read yet)
                    chunkedBodyLimit.test(current.bodyLimit());
                }
            } else {
                pipelined.add(request);
                if (queuedSpans == null) {
                    queuedSpans = new ArrayDeque<>(2);
                }
                queuedSpans.add(new long[] {receivedFrom(), received()});
                pausedForPipelining = true;
                pausedForWrites |= current == null; // not writable: started once it is
                updateReading();
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            if (content instanceof LastHttpContent) {
                bodyPending = false;
                timeouts.bodyEnded();
                if (codec != null && codec.holdsUpgrade()) {
                    updateReading(); // nothing more is read until the request that asked for an upgrade is answered
                }
            }
            if (discardingBody) { // the body of a request dropped above: never the running exchange's
                moreMayCome = true;
                content.release();
                return;
            }
            if (!checkBody(content)) {
                return;
            }
            if (!pipelined.isEmpty()) {
                pipelined.add(content);
                long[] span = queuedSpans == null ? null : queuedSpans.peekLast();
                if (span != null) {
                    span[1] = received();
                }
            } else if (current != null) {
                current.receivedTo(received());
                current.offerBody(content);
            } else {
                content.release();
            }
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    /**
     * A body the decoder could not read (malformed, or a chunk declared over the limit: see
     * {@link StrictHttpServerCodec}) fails the owning exchange, 400 or 413, and the connection closes; so do body bytes
     * counted past the exchange's limit (the codec may hold a body to a larger one until its request is routed).
     */
    private boolean checkBody(HttpContent content) {
        DecoderResult result = content.decoderResult();
        // The body is the running exchange's, or (something queued) a queued request's: logged as that one starts
        boolean running = pipelined.isEmpty() && current != null;
        // The running exchange's location's limit for its body; a queued request's is held to the largest any location
        // takes until it is routed (at most one read of it is queued: reading stops while it waits), then to its own
        // as it is handed over (startPipelined).
        long limit = running ? current.bodyLimit() : server.largestBodyLimit();
        if (result.isFailure()) {
            content.release();
            HttpResponseStatus status = ErrorResponses.statusForUnreadableBody(result.cause());
            if (running && status.code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
                tooLarge(current, past(limit));
            }
            failConnection(new HttpStatusException(status, "unreadable body: " + result.cause()));
            return false;
        }
        bodyBytes += content.content().readableBytes();
        if (bodyBytes > limit) {
            content.release();
            if (running) {
                tooLarge(current, past(limit));
            }
            failConnection(new HttpStatusException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body over the limit"));
            return false;
        }
        return true;
    }

    /**
     * Drops what comes of {@code exchange}'s body from now on, unread, and closes the connection once it has answered:
     * its 413's page runs without the body it refused ({@link ServerExchange#toNamedErrorPage}).
     */
    void dropBody(ServerExchange exchange) {
        if (exchange == current && pipelined.isEmpty()) {
            discardingBody = true;
        }
        closeAfterCurrent = true;
        moreMayCome = true; // the rest of the body, and whatever follows it
    }

    /**
     * The request stream can't be trusted any more: answer the running exchange if possible (its body given up on,
     * {@link ServerExchange#bodyFailed}), then close.
     */
    private void failConnection(HttpStatusException cause) {
        if (!pipelined.isEmpty() && !discardingBody && failQueued(cause)) {
            return;
        }
        boolean bodyOfCurrent = pipelined.isEmpty() && !discardingBody;
        closeAfterCurrent = true;
        moreMayCome = true; // the rest of the body, and whatever follows it
        releasePipelined();
        if (current == null) {
            // The body belongs to an exchange that has already answered: close once its response is out (at once
            // if it is).
            closeAfterLastResponse();
        } else if (bodyOfCurrent) {
            current.bodyFailed(cause);
        }
        // else: a pipelined or dropped request was bad; the running exchange finishes, then the connection closes
    }

    /** The bytes the connection received so far ({@link StrictHttpServerCodec#received}). */
    private long received() {
        return codec == null ? 0 : codec.received();
    }

    /** Where, in {@link #received}, the request read last began. */
    private long receivedFrom() {
        return codec == null ? 0 : codec.requestFrom();
    }

    /** nginx's {@code $connection}. */
    long serial() {
        return serial;
    }

    /** Requests started on this connection so far, the running one too (nginx's {@code $connection_requests}). */
    long requestsStarted() {
        return h2 == null ? started : h2.requestsStarted();
    }

    /** The client's connection: the channel this handler runs on, or the HTTP/2 connection of its stream. */
    Channel clientConnection() {
        return clientConnection;
    }

    /** {@code receivedFrom}, {@code receivedTo}: where its bytes are in what the connection received, as far as read. */
    private void start(HttpRequest request, long receivedFrom, long receivedTo) {
        started++;
        if (h2 != null) {
            h2.requestStarted();
        }
        if (pausedForWrites) {
            // Started because the channel is writable again, maybe before its writability event came: reading
            // must not stay off for this exchange (its body), which that event, once it comes, would not undo.
            pausedForWrites = false;
            updateReading();
        }
        long headStart = timeouts.headStartNanos();
        timeouts.headReceived();
        server.requestRead();
        if (listenerDrop.dropped()) {
            // A reload dropped this connection's listener where sites listen apart before it or after: its close
            // (HttpServerContext#closeAccepted) is on its way. Closed unanswered, never routed by the new routes: among
            // every site, a client of the public port was answered the admin's, or of the admin port the public's.
            LOG.debug("request from {} on a listener a reload closed: connection closed unanswered",
                    ctx.channel().remoteAddress());
            moreMayCome = true;
            closeAfterLastResponse();
            return;
        }
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            closeAfterCurrent = true;
            moreMayCome = true; // what follows a request that cannot be read may be its body, or more requests
            LOG.debug("bad request from {}: {}", ctx.channel().remoteAddress(), result.cause().toString());
            HttpResponseStatus status = ErrorResponses.statusForUnparsable(result.cause());
            if (status.code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
                // a queued request's chunked body past the largest limit any location takes
                long largest = server.largestBodyLimit();
                tooLarge(ClientAddress.of(ProxyProtocol.peer(clientConnection), ProxyProtocol.expected(clientConnection),
                        request.headers(), server.settings().realIp()), request,
                        largest == Long.MAX_VALUE ? past(largest) : past(largest) + ", the largest any location takes");
            }
            // A request line that was read stands in the access log with the head's referer and agent, as in
            // nginx's; for one that could not be, what was sent of it (writeErrorThatCloses)
            closing.closeAfter(writeErrorThatCloses(status, false, true, request, headStart, started),
                    this::clientMaySend);
            return;
        }
        String sentUri = request.uri();
        // as the client sent it, for the access log: routing may rewrite target and version
        HttpVersion sentVersion = StrictHttpServerCodec.sentVersion(request);
        Routes routes = server.enterRoutes();
        // the server's body limit of the routes' configuration: the check below and the exchange's body are held to it
        long serverBodyLimit = routes.serverBodyLimit();
        ServerExchange exchange;
        Route route = null;
        RequestTarget parsed = null;
        try {
            HttpStatusException invalid = validate(request);
            if (invalid != null) {
                throw invalid;
            }
            // Met by the exchange (the 100 goes out when its body is asked for), as the removed Netty handler
            // did: backends and the response cache never see the expectation. Any other Expect (another value, a
            // list) is ignored and passed on, as nginx ignores it: RFC 9110 10.1.1 lets a server answer it 417, and
            // need not. Nothing hangs on it: the body is framed by its length or chunks all the same, and a client
            // that holds it back for an answer meets the body timeout.
            boolean expectsContinue = HttpUtil.is100ContinueExpected(request);
            if (expectsContinue) {
                request.headers().remove(HttpHeaderNames.EXPECT);
            }
            RequestTarget target = RequestTarget.parse(sentUri);
            parsed = target;
            if (target.authority() != null) {
                // RFC 9112 3.2.2: an absolute-form target's authority overrides Host. Made origin-form here, the
                // request is routed, passed to CGI and keyed in the cache by that one host.
                request.headers().set(HttpHeaderNames.HOST, target.authority());
                request.setUri(target.originForm());
            }
            String host = request.headers().get(HttpHeaderNames.HOST);
            route = routes.router().route(listenAddress, host, target.path());
            // nginx's ssl_verify_client of the Host's site: checked before anything of the request is read or run
            ClientCertificates.Refusal refusal = ClientCertificates.refusal(clientConnection, route.site(), host);
            if (refusal != null) {
                throw ErrorResponses.refused(refusal, ClientCertificates.verification(clientConnection));
            }
            // a site's rewrites may route it elsewhere first: held to that location's limit once they ran, as nginx
            // checks client_max_body_size in the location it finds after its server rewrite phase
            if (!hasRewrites(route) && HttpUtil.getContentLength(request, -1L) > bodyLimit(route, serverBodyLimit)) {
                throw new HttpStatusException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                        "declared body over the location's limit");
            }
            exchange = new ServerExchange(this, ctx, request, sentUri, sentVersion, target, route,
                    expectsContinue && Exchange.announcesBody(request), serverBodyLimit, headStart, receivedFrom,
                    receivedTo);
        } catch (HttpStatusException status) {
            if (ErrorResponses.closesConnection(status.status())) {
                closeAfterCurrent = true;
                moreMayCome = true;
            }
            // Routed where the request could be (a body declared over its location's limit), else to its Host's
            // site, so the answer is that site's error page as it is for a chunked body over the limit.
            // its path and query as parsed where they could be (the access log's $uri and $args: a bad header's
            // refusal comes before the target is parsed, which nginx's $uri has all the same), else "/" for routing
            // alone, no $uri
            if (parsed == null) {
                parsed = RequestTarget.parsedOrNull(sentUri);
            }
            try {
                exchange = new ServerExchange(this, ctx, request, sentUri, sentVersion,
                        parsed != null ? parsed : new RequestTarget(null, "/", "", "/"),
                        route != null ? route : refusedRoute(routes, request), false, serverBodyLimit, headStart,
                        receivedFrom, receivedTo);
            } catch (RuntimeException | Error e) {
                routes.exit(); // no exchange took the routes over
                throw e;
            }
            if (route == null) {
                exchange.refusedUnrouted();
            }
            if (parsed == null) {
                exchange.targetUnparsed();
            }
            currentRoutes = routes;
            current = exchange;
            if (status.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code() && route != null) {
                tooLarge(exchange, "a body of " + HttpUtil.getContentLength(request, -1L) + " bytes, over its limit of "
                        + bodyLimit(route, serverBodyLimit));
            }
            exchange.fail(status);
            return;
        } catch (RuntimeException | Error e) {
            routes.exit(); // no exchange took the routes over
            throw e;
        }
        currentRoutes = routes;
        current = exchange;
        if (HttpMethod.CONNECT.equals(request.method())) {
            // What follows a CONNECT may be a tunnel's bytes, not a request: as nginx, its connection closes.
            closeAfterCurrent = true;
            moreMayCome = true;
        }
        if (hasRewrites(route)) {
            if (!exchange.meetSiteRewrites(HttpConnectionHandler::afterSiteRewrites)) {
                afterSiteRewrites(exchange);
            }
            // else answered, routed again by its new URI (nginx's server rewrite phase, before a location), or waiting
            // for a file test
            return;
        }
        respondRouted(exchange);
    }

    /** What follows a request's site's rewrites that answered nothing: its body's limit, then its location. */
    private static void afterSiteRewrites(ServerExchange exchange) {
        if (!exchange.connection().refusesBody(exchange, "after its site's rewrites")) {
            exchange.connection().respondRouted(exchange);
        }
    }

    /** Answers {@code exchange} as its location says; 404 in an internal one, which only an X-Accel-Redirect reaches. */
    private void respondRouted(ServerExchange exchange) {
        if (exchange.location() != null && exchange.location().internal()) {
            exchange.sendError(HttpResponseStatus.NOT_FOUND); // only an X-Accel-Redirect goes there (nginx's internal)
            return;
        }
        respond(exchange);
    }

    /**
     * TRACE and CONNECT are 405 in every location, as with nginx: a script that echoes its request would show a
     * cross-site tracer the client's cookies, and edge tunnels nothing (a CONNECT to an authority is 400, as its target
     * is no path). They are routed all the same, so that the 405's Allow says what a request of that URI is taken with
     * (see ServerExchange). A TRACE of a static location's directory goes on to the static responder, which runs
     * nothing and sends no file to it: it finds the directory's index as for any other method, refuses it there with a
     * file's GET, HEAD, or redirects to the index's own location, a PHP one, whose methods the 405 then lists. So does
     * a TRACE in a PHP location with a front controller, whose responder hands an existing file or directory to the
     * static responder and refuses what would run a script with the PHP location's methods.
     */
    static boolean refusedEverywhere(HttpMethod method) {
        return HttpMethod.TRACE.equals(method) || HttpMethod.CONNECT.equals(method);
    }

    /**
     * A {@link #refusedEverywhere} request that goes to no responder, but for a TRACE of a static directory or in a PHP
     * location with a front controller (where a file may be the static path's).
     */
    private static boolean refusedHere(ServerExchange exchange) {
        HttpMethod method = exchange.request().method();
        if (!refusedEverywhere(method)) {
            return false;
        }
        LocationSettings location = exchange.location();
        if (!HttpMethod.TRACE.equals(method) || location == null) {
            return true;
        }
        return switch (location.handler()) {
            case STATIC -> !exchange.path().endsWith("/");
            case FASTCGI -> location.frontController() == null;
            case PROXY, STATUS, RETURN, REWRITE, EMPTY_GIF -> true;
        };
    }

    /** Hands the running exchange to its location's responder; no location: 404; a client its access rules refuse: 403. */
    private void respond(ServerExchange exchange) {
        if (refusedHere(exchange)) {
            exchange.fail(new HttpStatusException(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "method: " + exchange.request().method()));
            return;
        }
        Captures.keepLocation(exchange, exchange.location(), exchange.path());
        LocationSettings location = exchange.location() != null ? exchange.location() : prefixPurgeTaker(exchange);
        if (AccessCheck.refuses(exchange, location, "the request")) {
            return;
        }
        Responder responder = currentRoutes.responder(location);
        if (responder == null) {
            exchange.sendError(HttpResponseStatus.NOT_FOUND);
            return;
        }
        try {
            responder.respond(exchange);
        } catch (InvalidPathException e) {
            // A name the JVM's file-name charset cannot write (Main warns at start when it is not UTF-8): no file
            // here has it, and the next such request is no news.
            if (UNNAMEABLE_LOGGED.compareAndSet(false, true)) {
                LOG.warn("{}: 404, and so every request for a name {} cannot write (said once): {}",
                        LogText.escapeBytes(exchange.request().uri()), System.getProperty("sun.jnu.encoding"),
                        e.getMessage());
            }
            exchange.sendError(HttpResponseStatus.NOT_FOUND);
        } catch (RuntimeException e) {
            LOG.error("responder failed for {}", LogText.escapeBytes(exchange.request().uri()), e);
            exchange.fail(e);
        }
    }

    /**
     * For a {@code PURGE /prefix*} whose literal target routes to no location ({@code PURGE /*} where a site has only
     * {@code ~ \.php$}): the site's first cached location, whose purge responder takes prefixes site-wide; else null
     * (404). A prefix is no path of a location's: it names what the site's cache holds.
     */
    private static LocationSettings prefixPurgeTaker(ServerExchange exchange) {
        if (!PURGE.equals(exchange.request().method()) || !exchange.request().uri().endsWith("*")
                || exchange.site() == null) {
            return null;
        }
        return exchange.site().everyLocation().stream().filter(LocationSettings::cache).findFirst().orElse(null);
    }

    /**
     * {@link Exchange#redirect} of {@code exchange}, whose target now names the new path: routed again by the routes
     * it runs on (a reload meanwhile does not move it) and answered by that location's responder; 500 where a
     * location's regex gave up on the new path. An {@code internal} redirect's URI (an index file, a front controller)
     * meets the site's rewrites first, as nginx's internal redirect starts again at its server rewrite phase; a
     * rewrite's goes to its location.
     */
    void redirect(ServerExchange exchange, boolean internal) {
        if (exchange != current) {
            throw new IllegalStateException("redirect of an exchange that is not running");
        }
        Route route;
        try {
            route = routeOf(exchange, exchange.path());
        } catch (HttpStatusException gaveUp) {
            exchange.fail(gaveUp);
            return;
        }
        exchange.reroute(route);
        if (internal && exchange.meetSiteRewrites(HttpConnectionHandler::afterRedirect)) {
            return;
        }
        afterRedirect(exchange);
    }

    /**
     * {@link Exchange#redirectNamed} of {@code exchange}: answered by its site's location {@code name} (checked to be
     * there when the configuration was read), its target as it was, its site's rewrites not met again, as nginx's
     * named location starts at the location's rewrite phase.
     */
    void redirectNamed(ServerExchange exchange, String name) {
        if (exchange != current) {
            throw new IllegalStateException("redirect of an exchange that is not running");
        }
        Route route = exchange.route();
        LocationSettings named = route.site().namedLocation(name);
        if (named == null) { // a configuration without it refuses the name
            exchange.fail(new IllegalStateException("no location " + name + " in the site"));
            return;
        }
        exchange.reroute(new Route(route.site(), named, route.hostRegex(), route.hostGroups()));
        afterRedirect(exchange);
    }

    /** What follows a redirect's routing (and its site's rewrites): its body's limit, then its location's responder. */
    private static void afterRedirect(ServerExchange exchange) {
        if (!exchange.connection().refusesBody(exchange, exchange.path())) {
            exchange.connection().respond(exchange);
        }
    }

    /**
     * Whether {@code exchange}, routed on (a redirect, or {@link ServerExchange#holdBodyTo}), has a body over the limit
     * it is held to now, answered 413 then ({@code where} it is held so, for the log): one declared over it, or, where
     * it is routed on after its first bytes came (a front controller found once a file was looked for), the bytes and
     * chunk sizes read of it so far, which were held to the limit where it came in. nginx checks a declared body
     * against the limit of each location it finds, after a rewrite or an internal redirect too: one over the limit
     * where the request lands is refused before it is read (no 100 Continue), not once the client has sent the limit's
     * worth of it (an upload form's pretty URL into its script's location). The codec holds the chunk sizes still to
     * come to that limit too. A body already asked for keeps the limit it was asked for with.
     */
    boolean refusesBody(ServerExchange exchange, String where) {
        if (exchange.bodyRequested()) {
            return false;
        }
        long limit = exchange.bodyLimit();
        long declared = HttpUtil.getContentLength(exchange.request(), -1L);
        String what;
        if (declared > limit) {
            what = "a body of " + declared + " bytes, over its limit of " + limit;
        } else if (exchange == current && pipelined.isEmpty() && !discardingBody
                && (bodyBytes > limit || chunkedBodyLimit.test(limit))) { // the body the codec reads is its
            what = past(limit);
        } else {
            return false;
        }
        closeAfterCurrent = true;
        moreMayCome = true;
        tooLarge(exchange, what + " where it was routed to, " + where);
        exchange.refuseBody();
        return true;
    }

    /**
     * The headers of an answer of {@code exchange} that no location gives (location-defaults' always-headers): those of
     * the routes it runs on, while it runs.
     */
    Map<String, VariableText> unroutedHeaders(ServerExchange exchange) {
        return exchange == current && currentRoutes != null ? currentRoutes.unroutedHeaders() : server.unroutedHeaders();
    }

    /** Where a request of {@code exchange}'s host for {@code path} goes, by the routes the running exchange runs on. */
    private Route routeOf(ServerExchange exchange, String path) {
        return currentRoutes.router().route(listenAddress,
                exchange.request().headers().get(HttpHeaderNames.HOST), path);
    }

    /**
     * Where a request refused before it was routed is answered from, for its site's error page: the site its Host
     * names (one, well formed), else the default site, as nginx answers from the server a Host selects or its default.
     */
    private Route refusedRoute(Routes routes, HttpRequest request) {
        List<String> hosts = request.headers().getAll(HttpHeaderNames.HOST);
        String host = hosts.size() == 1 && RequestTarget.isHostAndPort(hosts.get(0)) ? hosts.get(0) : null;
        return routes.router().route(listenAddress, host, "/");
    }

    private HttpStatusException validate(HttpRequest request) {
        if (request.headers().size() > server.settings().limits().headerCount()) {
            return new HttpStatusException(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too many header fields");
        }
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1) {
            return new HttpStatusException(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
                    "version: " + version + " (expected: HTTP/1.x)");
        }
        // one look-up for whether Host is there, its value and whether another follows (no list made)
        Iterator<String> hosts = request.headers().valueStringIterator(HttpHeaderNames.HOST);
        String host = hosts.hasNext() ? hosts.next() : null;
        if (version.minorVersion() >= 1 && host == null) {
            return new HttpStatusException(HttpResponseStatus.BAD_REQUEST, version + " request without Host");
        }
        if (hosts.hasNext()) {
            return new HttpStatusException(HttpResponseStatus.BAD_REQUEST, "more than one Host");
        }
        if (host != null && !RequestTarget.isHostAndPort(host)) {
            // checked even when an absolute-form target will replace it: a request that sends one is suspect
            return new HttpStatusException(HttpResponseStatus.BAD_REQUEST,
                    "Host: " + host + " (expected: uri-host [ \":\" port ])");
        }
        for (AsciiString name : SINGLE_VALUE_FIELDS) {
            // contains first: most requests have none of these, and getAll makes a list for each
            int lines = request.headers().contains(name) ? request.headers().getAll(name).size() : 0;
            if (lines > 1) {
                return new HttpStatusException(HttpResponseStatus.BAD_REQUEST,
                        "header: " + lines + " " + name + " fields (expected: one)");
            }
        }
        if (HttpUtil.isTransferEncodingChunked(request) && request.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
            return new HttpStatusException(HttpResponseStatus.BAD_REQUEST, "both Content-Length and chunked");
        }
        return null;
    }

    /** Called by the exchange once its last write was issued. */
    void exchangeDone(ServerExchange exchange, ChannelFuture lastWrite, boolean keepAlive) {
        if (exchange != current) {
            return;
        }
        current = null;
        responseEnd = lastWrite;
        Routes routes = currentRoutes;
        currentRoutes = null;
        lastWrite.addListener(written -> routes.exit());
        if (!keepAlive || closeAfterCurrent || server.isDraining() || h2 != null) { // a stream carries one request
            closeAfterCurrent = true;
            releasePipelined();
            closing.closeAfter(lastWrite, this::clientMaySend);
            return;
        }
        // A responder may have paused reading for its request body and ended before the body did: the rest of it
        // is dropped here, and the next request must still be read.
        pausedForBody = false;
        if (exchange.holdsPlaceUntilWritten() && !lastWrite.isDone()) {
            // its place goes back once its answer is out (a listener added before this one): the next request waits
            heldUntilWritten = lastWrite;
            lastWrite.addListener(written -> {
                heldUntilWritten = null;
                if (current == null && pausedForWrites && !closeAfterCurrent && ctx.channel().isActive()
                        && ctx.channel().isWritable()) {
                    startPipelined();
                }
            });
        }
        if (!startingPipelined) {
            startPipelined();
        }
    }

    /**
     * With no exchange running: starts the pipelined requests in order, while each one started is answered at once
     * and the channel stays writable; then reads again once none waits, or stops reading until the channel is
     * writable again.
     */
    private void startPipelined() {
        startingPipelined = true;
        // The body of the request started here that came while it waited: read before it was routed, so held then to
        // the largest limit any location takes, it is held to its own location's as it is handed over.
        long queuedBody = 0;
        try {
            while (!pipelined.isEmpty() && !closeAfterCurrent) {
                HttpObject next = pipelined.peek();
                if (next instanceof HttpRequest request) {
                    if (current != null || !mayStart()) {
                        break;
                    }
                    pipelined.poll();
                    long[] span = queuedSpans == null ? null : queuedSpans.poll();
                    start(request, span == null ? 0 : span[0], span == null ? 0 : span[1]);
                    queuedBody = 0;
                    if (current != null && pipelined.stream().noneMatch(HttpRequest.class::isInstance)
                            && chunkedBodyLimit.test(current.bodyLimit())) {
                        // the last request read, its body still coming: sizes declared past its location's limit
                        refuseQueuedBody();
                    }
                } else {
                    pipelined.poll();
                    HttpContent content = (HttpContent) next;
                    if (current == null) {
                        content.release();
                    } else if ((queuedBody += content.content().readableBytes()) > current.bodyLimit()) {
                        content.release();
                        refuseQueuedBody();
                    } else {
                        current.offerBody(content);
                    }
                }
            }
        } finally {
            startingPipelined = false;
        }
        if (closeAfterCurrent) {
            return;
        }
        if (current == null && pipelined.isEmpty() && codec != null && codec.holdsUpgrade()) {
            // the request that asked for an upgrade was answered without one: what came after it is read now, a
            // request in it started (or queued) as it is decoded
            codec.readHeld();
            if (closeAfterCurrent) {
                return;
            }
        }
        if (inputClosed && current == null && pipelined.isEmpty() && (codec == null || !codec.finHeld())) {
            closeAfterLastResponse(); // nothing more can come (but what the codec held past the FIN: told again after)
            return;
        }
        pausedForWrites = current == null && !mayStart();
        pausedForPipelining = !pipelined.isEmpty();
        updateReading();
        if (current == null && !pausedForWrites && !pausedForPipelining) {
            timeouts.awaitingRequest(responseEnd);
        }
    }

    /**
     * The client will send nothing more: it half-closed ({@code shutdown(SHUT_WR)}, as {@code nc -N} and some HTTP/1.0
     * clients do after their request) or closed, which look the same until a write fails. What it asked before is
     * answered in order, as nginx answers a static request whose client half-closed, and then the connection closes;
     * an idle connection closes now. A request whose body was cut short can't be answered: the running exchange's
     * closes the connection at once, as does an exchange that asked to end with its client
     * ({@link Exchange#endOnClientClose}, FastCGI), as before edge allowed half-closed connections; a queued one is
     * dropped and a dropped one's does not matter, so the requests before it still get their answers.
     */
    private void inputClosed() {
        inputClosed = true;
        if (bodyPending && !discardingBody) {
            bodyPending = false;
            if (!pipelined.isEmpty()) {
                dropLastQueuedRequest();
            } else if (current != null) {
                ctx.close(); // the running exchange's body can't be completed
                return;
            }
            // else: the body of an exchange that has answered already
        }
        if (current != null && current.endsOnClientClose()) {
            ctx.close();
        } else if (current == null && pipelined.isEmpty() && !closeAfterCurrent) {
            // (told again, the codec having held requests behind an upgrade request past the FIN: closing already)
            closeAfterLastResponse();
        }
        // else: the running exchange ends, startPipelined answers what waits and then closes
    }

    /**
     * An HTTP/2 stream's: its exchange asked to end with its client ({@link Exchange#endOnClientClose}: a FastCGI or
     * proxied request), so the connection's FIN ends it, as HTTP/1's {@link #inputClosed} does.
     */
    boolean endsWithItsClient() {
        return current != null && current.endsOnClientClose();
    }

    /**
     * {@link Exchange#endOnClientClose} asked by {@code exchange} after the client's FIN came (a FastCGI request whose
     * script was looked up, or whose body went to its spool file, meanwhile): it ends now, as it would have at the FIN,
     * before it takes a queue place; nothing queued behind it is answered, as at the FIN.
     */
    void endIfInputClosed(ServerExchange exchange) {
        if (exchange == current && inputClosed) {
            closeAfterCurrent = true;
            releasePipelined();
            ctx.close();
            currentGone();
        }
    }

    /** Drops the request queued last, whose body the client cut short, with what came of that body. */
    private void dropLastQueuedRequest() {
        HttpObject msg;
        while ((msg = pipelined.pollLast()) != null) {
            ReferenceCountUtil.release(msg);
            if (msg instanceof HttpRequest) {
                if (queuedSpans != null) {
                    queuedSpans.pollLast();
                }
                break;
            }
        }
        pausedForPipelining = !pipelined.isEmpty();
    }

    private void closeAfterLastResponse() {
        closeAfterCurrent = true;
        if (responseEnd == null) {
            ctx.close();
        } else {
            closing.closeAfter(responseEnd, this::clientMaySend);
        }
    }

    /** {@link Exchange#locationOf} of {@code exchange}: by the routes it runs on while it is the running one. */
    LocationSettings locationOf(ServerExchange exchange, String path) {
        if (exchange != current) {
            return exchange.location();
        }
        Route route = routeOf(exchange, path);
        return route == null ? null : route.location();
    }

    /** {@link Exchange#files} of {@code exchange}: its routes' file engine, while it is the running one. */
    FileEngine files(ServerExchange exchange) {
        return exchange == current && currentRoutes != null ? currentRoutes.files() : null;
    }

    /** {@link Exchange#holdBackends} of {@code exchange}: while it is the running one, else nothing to hold. */
    Runnable holdRoutes(ServerExchange exchange) {
        return exchange == current ? currentRoutes.hold() : () -> { };
    }

    /** {@link Exchange#pauseBody} of {@code exchange}: heeded while it is the running one. */
    void pauseBody(ServerExchange exchange, boolean paused) {
        if (exchange == current && pausedForBody != paused) {
            pausedForBody = paused;
            updateReading();
        }
    }

    private void updateReading() {
        if (upgraded) {
            return; // the tunnel reads as it can write
        }
        if (codec != null && codec.holdsUpgrade()) {
            ctx.channel().config().setAutoRead(false);
            return;
        }
        if (inputClosed) {
            // Nothing more can be read, and Netty 4.2's epoll channel fails a read asked for after its input closed
            // (epoll_ctl: ENOENT) by closing the connection, with the answers still to give.
            return;
        }
        boolean read = !pausedForPipelining && !pausedForBody && !pausedForWrites;
        if (read && !ctx.channel().config().isAutoRead()) {
            timeouts.readingResumed();
        }
        ctx.channel().config().setAutoRead(read);
    }

    /** {@link Exchange#upgradable} of {@code exchange}. */
    boolean upgradable(ServerExchange exchange) {
        return exchange == current && h2 == null && pipelined.isEmpty() && !closeAfterCurrent && !inputClosed
                && !upgraded && codec != null && codec.holdsUpgrade() && ctx.pipeline().context(codec) != null;
    }

    /**
     * The running exchange's client connection goes to {@code tunnel} ({@link Exchange#upgrade}), its 101 written: the
     * tunnel goes in before this handler, and the request timeouts and the codec leave, the codec handing the tunnel
     * the bytes it held after the request. This handler stays last, for the exchange's end ({@link #exchangeDone}, then
     * the close), the write timeout's events, and the connection's close.
     */
    void upgrade(ServerExchange exchange, ChannelHandler tunnel) {
        if (!upgradable(exchange)) {
            throw new IllegalStateException("no upgrade of this connection");
        }
        upgraded = true;
        ChannelPipeline pipeline = ctx.pipeline();
        pipeline.addBefore(ctx.name(), "tunnel", tunnel);
        if (pipeline.context(timeouts) != null) {
            pipeline.remove(timeouts);
        }
        pipeline.remove(codec);
    }

    /** The running exchange's {@code 100 Continue} was written: the client sends its body from now on. */
    void continueWritten() {
        timeouts.bodyAwaited();
    }

    boolean closeAfterCurrent() {
        return closeAfterCurrent;
    }

    /** Whether the connection carries a request after the one running ({@code limits.keep-alive-requests}). */
    boolean carriesAnother() {
        return server.settings().limits().carriesAnother(started);
    }

    /** Whether the running exchange is an HTTP/2 or HTTP/3 stream's: its answer never says how the connection goes on. */
    boolean isStream() {
        return h2 != null;
    }

    /** The Alt-Svc field every answer of this connection carries (HTTP/3 on the listener's UDP port), or null. */
    String altSvc() {
        return altSvc;
    }

    /** Whether this connection ends TLS ({@link Exchange#endsTls}). */
    boolean endsTls() {
        return endsTls;
    }

    /** Whether connections are kept alive between requests at all (false: {@code keep-alive = 0}). */
    boolean keepsAlive() {
        return timeouts.keepsAlive();
    }

    /** Whether {@code route}'s site has rewrites (nginx's server rewrite phase has something to do). */
    private static boolean hasRewrites(Route route) {
        return route.site() != null && !route.site().rewrites().isEmpty();
    }

    /** The body limit of a request routed to {@code route}: its location's, else {@code serverLimit}. */
    static long bodyLimit(Route route, long serverLimit) {
        LocationSettings location = route == null ? null : route.location();
        return location == null ? serverLimit : location.bodyLimit(serverLimit);
    }

    HttpServerContext server() {
        return server;
    }

    /**
     * Drain on shutdown: an idle connection closes now, a busy one after its exchange, and one whose exchange is done but
     * whose response is still being sent (a download's last chunk queued for a slow client) once it is sent: closed at
     * once, it lost what Netty had not sent yet.
     */
    void drain() {
        if (current != null) {
            closeAfterCurrent = true;
        } else if (responseEnd != null && !responseEnd.isDone()) {
            closeAfterLastResponse();
        } else {
            ctx.close();
        }
    }

    /**
     * Answers {@code status} with {@code Connection: close}, outside any exchange; the caller closes once the returned
     * write is done. {@code accessLogged}: with an access-log line, as nginx logs its 400s, so malformed requests and
     * probes leave a trace: its request is {@code readLine}'s line, referer and agent; for Netty's stand-in of a line
     * it could not read, what was sent of that line, as nginx logs it; {@code "-"} when null or nothing of it is known.
     * Logged once written, with the time since {@code startNanos} ({@link System#nanoTime}; the head's start) and the
     * body bytes the client was sent (none to one that had gone).
     */
    private ChannelFuture writeErrorThatCloses(HttpResponseStatus status, boolean head, boolean accessLogged,
            HttpRequest readLine, long startNanos, long requestNumber) {
        answeredOutside = true;
        // No Host read: the default site's page, as nginx's default server's error_page
        SiteSettings site = listenerDrop.dropped() ? null : server.defaultSite(listenAddress); // not the new one's
        ErrorPage page = site == null ? null : site.errorPage(status.code());
        FullHttpResponse response = ErrorResponses.response(status, head, page, server.settings().serverTokens());
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // RFC 9110 6.6.1: in every 4xx too; no exchange's response path adds it here
        response.headers().set(HttpHeaderNames.DATE, HttpDate.now());
        ServerField.add(response.headers(), server.settings());
        // location-defaults' always-headers; a page's location's with the page
        ServerExchange.addHeaders(response.headers(), page == null ? server.unroutedHeaders()
                : ErrorResponses.pageAlwaysHeaders(site, page, server.unroutedHeaders()), null);
        if (!accessLogged || !server.accessLog().isEnabled()) {
            return ctx.writeAndFlush(response);
        }
        InetSocketAddress remote = ProxyProtocol.peer(clientConnection); // no X-Forwarded-For: the head is what was bad
        int bytes = response.content().readableBytes();
        HttpHeaders sentHeaders = response.headers();
        return ctx.writeAndFlush(response).addListener(written ->
                logUnanswered(remote, status, readLine, written.isSuccess() ? bytes : 0, startNanos, sentHeaders,
                        new AccessLog.Unanswered(serial, requestNumber)));
    }

    /**
     * The access-log line of a request answered outside any exchange, or not at all: {@code readLine} as
     * {@link #writeErrorThatCloses} takes it, {@code sent} body bytes, {@code sentHeaders} the answer's head or null.
     */
    private void logUnanswered(InetSocketAddress remote, HttpResponseStatus status, HttpRequest readLine, long sent,
            long startNanos, HttpHeaders sentHeaders, AccessLog.Unanswered unanswered) {
        if (readLine == null || readLine instanceof FullHttpRequest) { // no line read: the stand-in for one
            String line = readLine instanceof StrictHttpServerCodec.UnreadRequest unread ? unread.sent() : null;
            server.accessLog().log(remote, line == null ? "-" : line, status.code(), sent, null, null,
                    startNanos, null, sentHeaders, unanswered);
        } else {
            server.accessLog().log(remote, readLine, readLine.uri(), StrictHttpServerCodec.sentVersion(readLine),
                    status.code(), sent, startNanos, null, null, sentHeaders, unanswered);
        }
    }

    /**
     * The body that failed is the last queued request's: that request is marked failed with {@code cause} (answered
     * with its status when its turn comes, then the connection closes) and the part of its body queued is dropped;
     * the requests queued before it are answered first, as nginx answers them. False if no request is queued.
     */
    private boolean failQueued(Throwable cause) {
        HttpObject last;
        while ((last = pipelined.peekLast()) != null && !(last instanceof HttpRequest)) {
            ReferenceCountUtil.release(pipelined.pollLast());
        }
        if (!(last instanceof HttpRequest request)) {
            return false;
        }
        request.setDecoderResult(DecoderResult.failure(cause));
        streamFailed = true;
        discardingBody = true; // what more comes of its body
        return true;
    }

    /**
     * The running exchange, started from the queue, had more body waiting for it than its location takes: 413, as
     * for a body counted past the limit as it comes ({@link #checkBody}), the site's page too
     * ({@link ServerExchange#bodyFailed}), and what else was read is dropped with the rest of the body.
     */
    private void refuseQueuedBody() {
        closeAfterCurrent = true;
        moreMayCome = true;
        discardingBody = true;
        releasePipelined();
        tooLarge(current, past(current.bodyLimit()));
        current.bodyFailed(new HttpStatusException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "queued body over the limit"));
    }

    /** Logs a 413 to {@code exchange}'s request, whose body is {@code what} ({@link HttpServerContext#tooLarge}). */
    private void tooLarge(ServerExchange exchange, String what) {
        tooLarge(exchange.remoteAddress(), exchange.request(), what);
    }

    /** What a body refused for going past {@code limit} did, for {@link #tooLarge}. */
    private static String past(long limit) {
        return limit == Long.MAX_VALUE ? "a chunk of 2 GiB or more (no limit: one chunk's most)"
                : "a body past its limit of " + limit + " bytes";
    }

    /** Logs a 413 to {@code request}, from {@code remote} (null: not known), whose body is {@code what}. */
    private void tooLarge(InetSocketAddress remote, HttpRequest request, String what) {
        server.tooLarge().warn(HttpStatusException.class, "413: " + (remote == null || remote.getAddress() == null ? "-"
                : NetUtil.toAddressString(remote.getAddress())) + " " + request.method() + " "
                + LogText.escapeBytes(request.uri()) + ": " + what + " (server.limits.body, or the location's "
                + "body-limit)");
    }

    private void releasePipelined() {
        HttpObject msg;
        while ((msg = pipelined.poll()) != null) {
            moreMayCome = true;
            ReferenceCountUtil.release(msg);
        }
        if (queuedSpans != null) {
            queuedSpans.clear();
        }
    }

    /**
     * Whether the client may still be sending as its connection closes after a response (see {@link LingeringClose}),
     * much as nginx's {@code lingering_close on} judges it: {@link #moreMayCome}, a request body is not all in, the
     * decoder holds part of a next request, or reading is paused (the socket may hold more). A client that sent one
     * request and nothing else gets its close at once.
     */
    private boolean clientMaySend() {
        return moreMayCome || timeouts.clientSending() || !ctx.channel().config().isAutoRead();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == RequestTimeouts.BODY_TIMEOUT) {
            // the client stopped sending a body it announced: 408 if nothing was answered yet, else a close
            failConnection(new HttpStatusException(HttpResponseStatus.REQUEST_TIMEOUT, "request body timeout"));
        } else if (evt instanceof HttpStatusException timeout) {
            // request head timeout (see RequestTimeouts)
            closeAfterCurrent = true;
            if (current == null) {
                // part of a head came (a connection that sent nothing is closed quietly): logged, as nginx logs it,
                // with its request line once that was read; closed at once, not lingering: a client trickling its
                // head would hold the connection on
                // counted as a request, as nginx's stub_status counts one from its first byte
                server.requestRead();
                StrictHttpServerCodec codec = ctx.pipeline().get(StrictHttpServerCodec.class);
                // the head begun is a request of the connection's, as nginx counts one from its first byte
                writeErrorThatCloses(timeout.status(), false, true, codec == null ? null : codec.unfinishedHead(),
                        timeouts.headStartNanos(), started + 1).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close();
            }
        } else if (evt instanceof ChannelInputShutdownEvent) {
            if (h2 == null) { // a stream's end is its request's end, the client not gone: its reset closes the stream
                inputClosed();
            }
        } else if (evt instanceof IdleStateEvent idle) {
            // no write completed for the write timeout: reset if bytes are pending and none of them moved
            ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
            if (out != null && out.totalPendingWriteBytes() > 0 && !movedSinceLastLook(out, idle.isFirst())) {
                LOG.debug("resetting {}: write stalled", ctx.channel().remoteAddress());
                // A reset, not a close: a close would leave the socket's send buffer (megabytes the client is not
                // reading) held by the kernel until the client reads it or the orphan timers end it.
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                ctx.close();
            }
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    /**
     * Whether the pending output moved since the last write-timeout event: another message first in line, fewer or
     * more bytes pending, or progress within the first message (a file region or a buffer partly written). Netty's
     * idle handler compares these itself before a repeated event, but not before the first one after a write
     * completed, and a write completes only once all of it is in the socket: a client reading steadily, but slower
     * than the kernel's send buffer (megabytes) drains within the timeout, had its first event and was reset. The
     * first event only takes the picture here (unless it is the one taken at the last event, nothing having moved);
     * so a stalled client is reset one to two timeouts after its last completed write, as nginx's send_timeout
     * counts between two writes that make progress.
     */
    private boolean movedSinceLastLook(ChannelOutboundBuffer out, boolean first) {
        int message = System.identityHashCode(out.current());
        long pending = out.totalPendingWriteBytes();
        long progress = out.currentProgress();
        boolean moved = message != lookedMessage || pending != lookedPending || progress != lookedProgress;
        lookedMessage = message;
        lookedPending = pending;
        lookedProgress = progress;
        return first ? moved : false; // a repeated event: Netty found nothing moved since the last one
    }

    /**
     * Whether a request may start now: the channel is writable (the client read enough of the answers already sent)
     * and no answer that holds a place until it is written is still going out.
     */
    private boolean mayStart() {
        return ctx.channel().isWritable() && (heldUntilWritten == null || heldUntilWritten.isDone())
                && !awaitsCertificateCheck();
    }

    /**
     * Whether the connection's client certificate is being checked ({@link ClientCertificates#check}, off the event
     * loop): no request starts until it is, as none may be served (nor its $ssl_client_* told) before; it waits queued
     * as a pipelined one, its reading paused, and starts on the loop once the check is made. HTTP/2 streams of one
     * connection wait for the same check. A client gone meanwhile is let go (channelInactive released what waited).
     */
    private boolean awaitsCertificateCheck() {
        if (certificateCheck == null) {
            CompletableFuture<ClientVerification> check = ClientCertificates.check(clientConnection);
            if (check == null || check.isDone()) {
                return false;
            }
            certificateCheck = check;
            // completed on the connection's loop, this one (its streams' too): never within this call; cancelled
            // elsewhere only where the connection is gone
            check.whenComplete((made, cancelled) -> {
                if (ctx.executor().inEventLoop() && ctx.channel().isActive() && !closeAfterCurrent && current == null
                        && !startingPipelined) {
                    startPipelined();
                }
            });
        }
        return !certificateCheck.isDone();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && current != null) {
            current.runWritableTasks();
        } else if (ctx.channel().isWritable() && pausedForWrites && !closeAfterCurrent) {
            startPipelined(); // the client read enough of the answers already sent
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        boolean idle = current == null && pipelined.isEmpty();
        releasePipelined();
        currentGone();
        if (idle) {
            headCut(ctx);
        }
        ctx.fireChannelInactive();
    }

    /**
     * A client that closed or reset its connection with part of a request head read, and no request before it still
     * running or queued: counted as a request and logged as a 400 with nothing sent, as nginx logs a client that
     * "prematurely closed connection" while sending its head, with its request line once that was read (Netty's
     * stand-in for that head is dropped as it comes: {@link #channelRead}). Not where the server closed (a stop's
     * drain, an error answered), nor where an error was answered outside any exchange.
     */
    private void headCut(ChannelHandlerContext ctx) {
        StrictHttpServerCodec codec = ctx.pipeline().get(StrictHttpServerCodec.class);
        if (!(inputClosed || clientReset) || answeredOutside || codec == null || !codec.readingHead()) {
            return;
        }
        server.requestRead();
        if (server.accessLog().isEnabled()) {
            logUnanswered(ProxyProtocol.peer(clientConnection), HttpResponseStatus.BAD_REQUEST, codec.unfinishedHead(), 0,
                    timeouts.headStartNanos(), null, new AccessLog.Unanswered(serial, started + 1));
        }
    }

    /** The running exchange, if any, ends as its client is gone. */
    private void currentGone() {
        if (current != null) {
            ServerExchange gone = current;
            Routes routes = currentRoutes;
            current = null;
            currentRoutes = null;
            try {
                gone.clientGone();
            } finally {
                routes.exit(); // after the responder let go of its backend
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof OutOfMemoryError) {
            // no memory to read into (direct memory taken by uploads and downloads): the client is cut off unanswered,
            // which must not go untold as a reset connection does (the resource audit found uploads cut so, silently)
            OUT_OF_MEMORY.warn(cause.getClass(), "connection " + ctx.channel().remoteAddress() + " closed: " + cause
                    .getMessage() + " (raise -XX:MaxDirectMemorySize or the heap in EDGE_JAVA_OPTS)");
            if (current != null) {
                // the request it was reading (an upload's body, most often) is answered 503 and Retry-After, and logged
                // so, not left for the close to make a 499 of, as if its client had gone; the connection ends after
                // it, so no request pipelined behind it starts (it would run for nobody, and be logged 499)
                closeAfterCurrent = true;
                try {
                    current.fail(cause);
                } finally {
                    ctx.close();
                }
                return;
            }
            if (!answeredOutside) {
                // no request begun yet (its head, or a new connection's first bytes, had no buffer to go into):
                // answered 503 and Retry-After as well, not reset unanswered, from a heap buffer (ErrorResponses)
                closeAfterCurrent = true;
                try {
                    StrictHttpServerCodec codec = ctx.pipeline().get(StrictHttpServerCodec.class);
                    writeErrorThatCloses(HttpResponseStatus.SERVICE_UNAVAILABLE, false, true,
                            codec == null ? null : codec.unfinishedHead(), timeouts.headStartNanos(), started + 1)
                            .addListener(ChannelFutureListener.CLOSE);
                    return;
                } catch (OutOfMemoryError again) {
                    // not even that: the close below
                }
            }
        } else {
            clientReset = cause instanceof IOException; // a read that failed: reset by the client, most often
            LOG.debug("connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
    }
}
