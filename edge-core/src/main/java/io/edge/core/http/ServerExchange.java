package io.edge.core.http;

import io.edge.aio.file.FileEngine;
import io.edge.conf.ErrorPage;
import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.ServerSettings;
import io.edge.conf.SiteSettings;
import io.edge.conf.VariableMap;
import io.edge.conf.VariableText;
import io.edge.core.image.ImageMaker;
import io.edge.core.image.ImageWorkers;
import io.edge.core.route.Route;
import io.edge.core.route.Router;
import io.edge.fastcgi.LogText;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The core's {@link Exchange}: tracks what the responder wrote (status, body bytes) for the access log,
 * decides keep-alive when the response head goes out, and hands the connection back on completion.
 *
 * <pre>
 *   OPEN --write(HttpResponse)--> HEAD_SENT --complete()--> DONE
 *   OPEN --fail()/sendError()--> DONE (error response written)
 *   HEAD_SENT --fail()--> DONE (connection closed: the client can't be told any more)
 *   OPEN --upgrade(101)--> HEAD_SENT, the connection a tunnel's --tunnelEnded()--> DONE (the connection closed)
 *   any --client gone--> DONE (clientGone tasks run once)
 * </pre>
 *
 * Entering DONE ends the request body for the exchange: early chunks are released, and a body consumer that
 * has not had its last chunk is told it never will (the connection handler drops what comes later).
 *
 * <p>{@code Expect: 100-continue} (HTTP/1.1, a body announced): the exchange, once running, is the only writer
 * on its connection, so the {@code 100 Continue} it sends in OPEN on the first {@link #readBody} follows every
 * earlier response and precedes its own; a request that failed validation never gets that far (nginx too answers
 * a body over the limit with 413 and no 100). A response head written before the 100 and before any body arrived
 * closes the connection after it: the client may never send the body, or send it late, and either way the next
 * bytes can't be read as a request.
 */
final class ServerExchange implements Exchange {

    private static final Logger LOG = LoggerFactory.getLogger(ServerExchange.class);
    private static final ThrottledWarnings OVERLOAD = new ThrottledWarnings(LOG, System::nanoTime);
    private static final ThrottledWarnings REDIRECT_CYCLES = new ThrottledWarnings(LOG, System::nanoTime);
    private static final ThrottledWarnings KNOWN_FAULTS = new ThrottledWarnings(LOG, System::nanoTime);
    private static final ThrottledWarnings IMAGES = new ThrottledWarnings(LOG, System::nanoTime);

    private enum State { OPEN, HEAD_SENT, DONE }

    /** The answer is a 101 whose connection goes to a tunnel ({@link #upgrade}). */
    private boolean upgrading;

    private static final int MAX_REDIRECTS = 10;
    /** nginx's {@code Expires} for {@code expires epoch}. */
    private static final AsciiString EXPIRED = HttpDate.format(1000);

    private final HttpConnectionHandler connection;
    private final ChannelHandlerContext ctx;
    private final HttpRequest request;
    /** The request line as sent, logged as nginx's {@code $request} is. */
    private final String sentUri;
    private final HttpVersion sentVersion;
    /** The request line's method ({@link #sentMethod}), as sent. */
    private final HttpMethod sentMethod;
    /**
     * The fields the request's redirects carried to every answer from then on ({@link #carryHeaders}: a proxied
     * backend's X-Accel-Redirect, a script's to a named location), each redirect's added to the ones before, a later
     * type in place of an earlier, as nginx copies each into the request's own; null for none.
     */
    private HttpHeaders carried;
    /**
     * {@link #keepAccelFields}: a script's X-Accel-Redirect's (or X-Sendfile's) fields, which the responder writes
     * with the file itself; with {@link #carried} (its type in place of theirs), what gzip.static judges by
     * ({@link #accelFields}); null for none.
     */
    private HttpHeaders keptWithFile;
    /** What is answered: the target sent, or the one an internal {@link #redirect} chose. */
    private RequestTarget target;
    /** {@link #remoteAddress()}, once taken. */
    private InetSocketAddress client;
    /** {@link #https()}, once taken: 0 not yet, 1 http, 2 https. */
    private byte scheme;
    /** The real-ip settings {@link #remoteAddress()} and {@link #https()} judge by, once taken ({@link #realIp()}). */
    private ServerSettings.RealIp realIp;
    private Route route;
    /**
     * The server's body limit of the configuration the request started on (its routes'): a reload changing it lets a
     * body already coming finish under that one (as nginx's old worker keeps its client_max_body_size).
     */
    private final long serverBodyLimit;
    /** {@link #answerAs}: whose answer this is, if not the routed location's. */
    private Route answering;
    /** {@link #answerAs(LocationSettings, String)}: the URI answered ({@link #uri}), if not the target's path. */
    private String answeringUri;
    /** {@link #answerAs(LocationSettings, String, String)}: the query answered ({@link #query}), not the target's. */
    private String answeringQuery;
    /** {@link #backendGroup(String)}: the group a variable chose, or null. */
    private String backendGroup;
    /** {@link #targetUnparsed}: the target could not be parsed, and stands as "/" for routing its refusal alone. */
    private boolean targetUnparsed;
    private int redirects;
    /** {@link #siteRewrite}: the next redirect is a site's rewrite's, and the URI it routes by is not counted. */
    private boolean siteRewriting;
    /** {@link #holdBodyTo}: the location whose body-limit the body is held to in place of the route's; null: the route's. */
    private LocationSettings bodyLocation;
    /** {@link #withLocationHeaders}: the location's headers go with the head whatever its status. */
    private boolean locationHeadersAlways;
    /**
     * {@link #refusedUnrouted}: the request was refused before its location was chosen, and its answer gets the
     * headers of one no location gives in place of a location's.
     */
    private boolean unrouted;
    /**
     * {@link #answeredBySite}: that answer is its site's rewrites' (nginx's server-level {@code return}), which goes to
     * the site's error page as a location's does, where a request refused before routing does not.
     */
    private boolean siteAnswered;
    /** {@link #requestId()}, once asked; the same through internal redirects, as nginx's. */
    private String requestId;
    /** {@link #mapValues()}, once asked: kept through internal redirects, as nginx keeps a map's value. */
    private Map<VariableMap, String> mapValues;
    /** {@link #captures}: the regex and subject last searched, and the match found there (null: none). */
    private Pattern capturesRegex;
    private String capturesSubject;
    private Matcher captures;
    /** {@link #secureLinkVerdict(LocationSettings)}: the location whose secure-link's verdict is kept, and that. */
    private LocationSettings secureLinkLocation;
    private String secureLinkVerdict;
    /** {@link #errorPage}: the site's page that this answer sends, whose URI's location gives its always-headers. */
    private ErrorPage sentPage;
    /**
     * An error went to a named location's error page ({@link #toNamedErrorPage}): a later error gets edge's built-in
     * page, as nginx's error_page is met once per request (recursive_error_pages off).
     */
    private boolean errorPaged;
    /** That page is a path's whose answer stands for the error ({@link #answersAsErrorPage}). */
    private boolean answersAsErrorPage;
    /** The status the answer's head goes with whatever its own, nginx's {@code err_status}; 0: its own. */
    private int errStatus;
    /** When its head began ({@link System#nanoTime}): nginx's request time counts from the head's first byte. */
    private final long startNanos;
    /** The client waits for {@code 100 Continue} before it sends the body its head announced. */
    private final boolean expectsContinue;
    private boolean continueSent;
    /** The {@code 100 Continue} went to the client: counted in nginx's {@code $bytes_sent} as nginx counts it. */
    private boolean continueWent;
    /** Some of the request body reached the exchange (the client did not wait for a 100, or got one). */
    private boolean bodyArrived;
    /**
     * {@link #bodyFailed}: the body was found over the limit or unreadable as it came, or the client stopped sending it;
     * what is left of it is never read.
     */
    private boolean bodyGivenUp;
    /**
     * {@link #bodyFailed}: that failure (a 413 or 400 the site's routed page answers), held until a responder asks for
     * the body ({@link #readBody}), where it is answered; null for none.
     */
    private HttpStatusException heldBodyFailure;
    private State state = State.OPEN;
    /** What starts the error log's lines of this exchange ({@link #tagLogLines}): empty, or a tag and a space. */
    private String logTag = "";
    /** A limit-req counted this request: later ones (after an internal redirect) let it through. */
    private boolean limitCounted;
    /** A limit-conn counted this request, as {@link #limitCounted}. */
    private boolean connCounted;
    /** Whose password an auth-basic checked, for REMOTE_USER; null: none. */
    private String authenticatedUser;
    private boolean keepAlive;
    private int status;
    /** Request body bytes handed to the responder ({@link #bodyLengthRead}), and whether its last chunk was among them. */
    private long bodyRead;
    private boolean bodyReadWhole;
    /** Body bytes handed to the channel, chunk framing included (what limit-rate paces). */
    private long bodyBytes;
    /** Body bytes the kernel took, of writes that completed or the part of a file sent before one failed: nginx's
     * {@code $body_bytes_sent}, for the access log. */
    private long sentBytes;
    /** The head said chunked: the body's bytes on the wire include the chunks' framing, as nginx counts them. */
    private boolean chunked;
    /** The backend's timings ({@link #upstreamStarted}); upstreamStart 0: no backend took the request. */
    private long upstreamQueueNanos;
    private long upstreamConnectNanos;
    private long upstreamStart;
    private long upstreamEnd;
    /** The request waited in a queue and no backend took it ({@link #upstreamQueued}). */
    private boolean upstreamQueuedOnly;
    /**
     * The access log's other nginx variables of the backend and the cache ({@link #upstreamAddress},
     * {@link #upstreamStatus}, {@link #cacheStatus}): the backend of the last try, its status (0: none), and the tries
     * before it as the log writes them ("addr, " and "status, " each), null unless the request was tried again.
     */
    private SocketAddress upstreamAddress;
    private int upstreamStatus;
    private String triedAddresses;
    private String triedStatuses;
    private CacheStatus cacheStatus;
    /** What its limits made of it, the access log's {@code $limit_req_status} and {@code $limit_conn_status}. */
    private LimitStatus limitReqStatus;
    private LimitStatus limitConnStatus;
    /** This request's number on its connection, 1 for the first (nginx's {@code $connection_requests}). */
    private final long connectionRequest;
    /** Where its bytes begin and, as far as read, end in what its connection received (nginx's {@code $request_length}). */
    private final long receivedFrom;
    private long receivedTo;
    /** The head as the client was sent it; whether it went (told only where the log's line names {@code $bytes_sent}). */
    private HttpResponseStatus sentStatus;
    private boolean headWent;
    /** The head is being written, and {@link #headWent} wants telling. */
    private boolean headPending;
    /** The answer's last write succeeded: the answer went whole (nginx's {@code $request_completion}). */
    private boolean completed;
    private List<HttpContent> earlyBody;
    private Consumer<HttpContent> bodyConsumer;
    /** Runs if the exchange ends before {@link #bodyConsumer} had the last chunk; null once it had. */
    private Runnable bodyIncomplete;
    private List<Runnable> writableTasks;
    private List<Runnable> goneTasks;
    /** {@link #sendError}: the head written is edge's own error page, which carries no validator of another body. */
    private boolean ownErrorPage;
    /** {@link #keepBody}: the body read whole that a redirect's location sends again; null for none. */
    private WholeBody keptBody;
    /** {@link #whenEnded}; null once run. */
    private List<Runnable> endTasks;
    /** {@link #endOnClientClose}: the client's FIN ends this exchange. */
    private boolean endsOnClientClose;
    /** {@link #offerCompression}: the head written next may be compressed by the location's gzip. */
    private boolean compressionOffered;
    /** {@link #offerCompressionOfFile}: the offered response is a file's. */
    private boolean offeredFile;
    /** {@link #offerCompression(long)}: the length of the body a 304 stands for, -1 if unknown. */
    private long offeredLength = -1;
    /** {@link #offerCompression(long, String)}: the type of the body a 304 stands for, null if it says. */
    private String offeredType;
    /** {@link #offerCompression(CompressedForm)}: the offered whole body's kept compressed form, else null. */
    private CompressedForm compressedForm;
    /** The head as it went to the client (the access log's {@code $sent_http_*}), or null before it went. */
    private HttpHeaders sentHeaders;
    /** The gzip of this response's body while it is being compressed, else null. */
    private GzipFilter gzip;
    /** The sub-filter of this response's body while it is being filtered, else null. */
    private SubFilter sub;
    /** The image filter reading this response's body, else null. */
    private ImageFilter image;
    /** The location whose image filter took this answer (its variables' captures), null before one did. */
    private LocationSettings imageLocation;
    /**
     * The image filter's answer is written when this completes (it goes to the responder for the body's last part);
     * null while no image filter took the answer.
     */
    private ChannelPromise imageWritten;
    /**
     * The image filter answered before the body ended (415, a body over its buffer, as nginx's at once): the rest of it
     * is dropped as it comes, the last part's write {@link #imageWritten}.
     */
    private boolean imageDropping;
    /** {@link #track} held the body's last part for the image filter: its write is {@link #imageWritten}. */
    private boolean imageLastHeld;
    /** What the image filter's answer's Connection field says, as judged when its head was held; null: nothing. */
    private String imageConnection;
    /** Fails {@link #imageWritten} if the connection closes before the image filter's answer went. */
    private ChannelFutureListener imageClosed;
    /** {@link #offerRanges}: the client's Range may be honoured on the head written next. */
    private boolean rangesOffered;
    /** The range of this response's body that goes out while it is being written, else null. */
    private RangeSlicer slicer;

    /**
     * @param sentUri         the request target as the client sent it (an absolute form is made origin-form for
     *                        routing), for the access log
     * @param sentVersion     the version as the client sent it (an HTTP/1.x above 1.1 is read as 1.1)
     * @param expectsContinue the (valid, HTTP/1.1) request carried {@code Expect: 100-continue}, since removed, and
     *                        announced a body
     * @param receivedFrom    where the request's first byte is in what its connection received
     * @param receivedTo      where its last byte read so far is ({@link #receivedTo(long)} moves it on with the body)
     */
    ServerExchange(HttpConnectionHandler connection, ChannelHandlerContext ctx, HttpRequest request, String sentUri,
                   HttpVersion sentVersion, RequestTarget target, Route route, boolean expectsContinue,
                   long serverBodyLimit, long startNanos, long receivedFrom, long receivedTo) {
        this.connection = connection;
        this.connectionRequest = connection.requestsStarted();
        this.receivedFrom = receivedFrom;
        this.receivedTo = receivedTo;
        this.startNanos = startNanos;
        this.ctx = ctx;
        this.request = request;
        this.sentUri = sentUri;
        this.sentVersion = sentVersion;
        this.sentMethod = request.method();
        this.target = target;
        this.route = route;
        this.expectsContinue = expectsContinue;
        this.serverBodyLimit = serverBodyLimit;
        if (route != null && route.hostRegex() != null && !route.hostGroups().isEmpty()
                && route.site() != null && !route.site().captureVariables().isEmpty()) {
            // the server name's named groups, nginx's variables from the match that chose the site on
            Captures.keep(this, route.hostRegex(), Router.hostName(request.headers().get(HttpHeaderNames.HOST)),
                    route.hostGroups());
        }
    }

    @Override
    public HttpRequest request() {
        return request;
    }

    @Override
    public HttpVersion sentVersion() {
        return sentVersion;
    }

    @Override
    public HttpMethod sentMethod() {
        return sentMethod;
    }

    @Override
    public String path() {
        return target.path();
    }

    @Override
    public String uri() {
        return answeringUri != null ? answeringUri : targetUnparsed ? "" : target.path();
    }

    /** The request was refused with a target that could not be parsed: it has no {@link #uri} (nginx's "not found"). */
    void targetUnparsed() {
        targetUnparsed = true;
    }

    @Override
    public String query() {
        return answeringQuery != null ? answeringQuery : target.query();
    }

    @Override
    public boolean isHead() {
        return HttpMethod.HEAD.equals(request.method());
    }

    /** Whether the answer's body reaches the client: not a HEAD's, nor a 1xx, 204 or 304 (RFC 9112 6.3). */
    private boolean sendsBody() {
        return Exchange.statusHasBody(status) && !isHead();
    }

    @Override
    public SiteSettings site() {
        return route == null ? null : route.site();
    }

    /** The site and location it is routed to now (null before routing). */
    Route route() {
        return route;
    }

    @Override
    public LocationSettings location() {
        Route answers = answering != null ? answering : route;
        return answers == null ? null : answers.location();
    }

    @Override
    public void answerWithOwnStatus() {
        errStatus = 0;
    }

    @Override
    public void carryHeaders(HttpHeaders headers) {
        carried = carried == null ? headers : laterOver(carried, headers);
    }

    /**
     * {@code earlier} and {@code later}, two redirects' fields, as nginx's request holds them after both: all of both,
     * but the type, {@code later}'s where it has one (nginx's upstream sets the type, and adds the other fields).
     */
    private static HttpHeaders laterOver(HttpHeaders earlier, HttpHeaders later) {
        HttpHeaders both = new DefaultHttpHeaders().add(earlier);
        if (later.contains(HttpHeaderNames.CONTENT_TYPE)) {
            both.remove(HttpHeaderNames.CONTENT_TYPE);
        }
        return both.add(later);
    }

    /**
     * {@link #carryHeaders}' fields added to {@code response} (of {@link #status}): those it has not (nginx's headers
     * out hold them once, the answer's own beside them), their Set-Cookie beside its own (nginx's keeps both: a
     * proxied answer's cookie took the download script's session away), and for a 200 or 206 their type in place of
     * its own (nginx's static module and return keep the type they find set) or where it has none, but a backend's
     * own (a proxied or FastCGI location's), which nginx's upstream sets over it; an error's text/html stays, as
     * nginx's error page sets it, and a later redirect's script's, which its file has ({@link #keepAccelFields}).
     * Their Accept-Ranges goes with a 2xx only: nginx's error page and 304 clear it; nor with a 206, a range of the
     * answer, as no 206 of edge's says one (nginx 1.22 sends a backend's there, measured: "Accept-Ranges: none" on the
     * 206 of its redirect's file, which it ranged all the same); their ETag (a file's, whose 416 went to a named
     * location) not with edge's own error page, which nginx's special response clears it from.
     */
    private void addCarried(HttpResponse response) {
        HttpHeaders headers = response.headers();
        for (String name : carried.names()) {
            if (HttpHeaderNames.ACCEPT_RANGES.contentEqualsIgnoreCase(name) && (status < 200 || status > 299
                    || status == HttpResponseStatus.PARTIAL_CONTENT.code())
                    || HttpHeaderNames.ETAG.contentEqualsIgnoreCase(name) && ownErrorPage) {
                continue;
            }
            if (HttpHeaderNames.CONTENT_TYPE.contentEqualsIgnoreCase(name)) {
                String type = carried.get(name);
                String own = headers.get(name);
                LocationSettings answeringLocation = location();
                boolean backendsOwn = own != null && answeringLocation != null
                        && (answeringLocation.handler() == LocationSettings.Handler.PROXY
                        || answeringLocation.handler() == LocationSettings.Handler.FASTCGI);
                boolean scriptsLater = keptWithFile != null && keptWithFile.contains(name); // the file's type, set
                if (!type.isEmpty() && (status == 200 || status == 206) && !backendsOwn && !scriptsLater
                        && (own == null || !own.startsWith("multipart/byteranges"))) {
                    headers.set(name, type);
                }
            } else if (!headers.contains(name) || HttpHeaderNames.SET_COOKIE.contentEqualsIgnoreCase(name)) {
                headers.add(name, carried.getAll(name));
            }
        }
    }

    @Override
    public void answerAs(LocationSettings location) {
        if (state != State.OPEN) {
            throw new IllegalStateException("answerAs after the response started");
        }
        answering = new Route(site(), location);
    }

    @Override
    public void answerAs(LocationSettings location, String uri) {
        answerAs(location);
        answeringUri = uri;
    }

    @Override
    public void answerAs(LocationSettings location, String uri, String query) {
        answerAs(location, uri);
        answeringQuery = query;
    }

    /**
     * The largest body this request may have: its location's limit ({@link #holdBodyTo}'s), else the server's as it
     * started.
     */
    long bodyLimit() {
        return bodyLocation != null ? bodyLocation.bodyLimit(serverBodyLimit)
                : HttpConnectionHandler.bodyLimit(route, serverBodyLimit);
    }

    @Override
    public boolean holdBodyTo(LocationSettings location) {
        if (bodyRequested()) {
            return true; // its limit settled as it was asked for
        }
        bodyLocation = location;
        return !connection.refusesBody(this, "the location " + location.match());
    }

    /**
     * Answers 413 for a body over the limit it is held to now ({@link HttpConnectionHandler#refusesBody}), as the answer
     * of the location whose limit that is: {@link #holdBodyTo}'s, not the route's where it came in (its always-headers
     * are the ones that go with it), as nginx's 413 is the location's its internal redirect found.
     */
    void refuseBody() {
        if (bodyLocation != null) {
            answerAs(bodyLocation);
        }
        fail(new HttpStatusException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "body over the limit of the location it was routed to"));
    }

    /**
     * Meets its site's rewrites ({@link RewritePhase#server}) for its URI now: nginx's server rewrite phase, as the
     * request comes and again at each internal redirect. True where they answered it or routed it again, or wait for a
     * file test ({@code goOn} runs then where they answer nothing). A URI they change is routed again uncounted, as
     * nginx counts no server rewrite among its 10.
     */
    boolean meetSiteRewrites(Consumer<ServerExchange> goOn) {
        return RewritePhase.server(this, goOn);
    }

    /**
     * Says that the redirect that follows is a site's rewrite's (met now, or once a file test answered): routed again
     * uncounted, as nginx counts no server rewrite among its 10.
     */
    void siteRewrite() {
        siteRewriting = true;
    }

    /**
     * As nginx, at most {@value #MAX_REDIRECTS} internal redirects and location rewrites per request; beyond, a loop:
     * 500. An internal redirect meets the site's rewrites again for its URI ({@link #meetSiteRewrites}); a rewrite's
     * URI ({@link #redirect(String, String)}) goes to its location, as nginx's does.
     */
    @Override
    public void redirect(String path) {
        redirect(path, target.query(), true);
    }

    @Override
    public void redirect(String path, String query) {
        redirect(path, query, false);
    }

    private void redirect(String path, String query, boolean internal) {
        if (state != State.OPEN) {
            throw new IllegalStateException("redirect after the response started: " + path);
        }
        boolean counted = !siteRewriting;
        siteRewriting = false; // what the location it lands in does is counted
        if (counted && cycles(path)) {
            return;
        }
        target = new RequestTarget(target.authority(), path, query, target.originForm());
        connection.redirect(this, internal);
    }

    /**
     * Counts one more internal redirect, to {@code where}; true, and answered 500, past {@value #MAX_REDIRECTS}: a
     * cycle in the configuration (front controllers, index files of other locations), hit by every request of the
     * paths it covers: one line now and then, no stack trace, as nginx's "internal redirection cycle".
     */
    private boolean cycles(String where) {
        if (++redirects <= MAX_REDIRECTS) {
            return false;
        }
        REDIRECT_CYCLES.warn(ServerExchange.class, request.method() + " " + LogText.escapeBytes(request.uri())
                + " -> 500: more than " + MAX_REDIRECTS + " internal redirects, the last to " + where
                + " (a cycle of front-controller or index paths between locations)");
        sendError(HttpResponseStatus.INTERNAL_SERVER_ERROR);
        return true;
    }

    @Override
    public void redirectNamed(String name) {
        if (state != State.OPEN) {
            throw new IllegalStateException("redirect after the response started: " + name);
        }
        siteRewriting = false;
        if (answeringUri != null) {
            // a script's X-Accel-Redirect (its file missing): nginx's internal redirect to that URI, as a GET, went
            // before, so the named location is handed that URI and query ($uri, a proxy's target), not the script's
            target = new RequestTarget(target.authority(), answeringUri,
                    answeringQuery != null ? answeringQuery : "", target.originForm());
            if (!isHead()) {
                request.setMethod(HttpMethod.GET);
            }
        }
        if (cycles(name)) {
            return;
        }
        if (route.site().namedLocation(name) == null) {
            // only a backend's X-Accel-Redirect names one the configuration was not checked for: nginx's 500
            LOG.warn("[{}] {} {}: could not find named location {}: 500", requestId(), request.method(),
                    LogText.escapeBytes(request.uri()), LogText.escapeControls(name));
            sendError(HttpResponseStatus.INTERNAL_SERVER_ERROR);
            return;
        }
        connection.redirectNamed(this, name);
    }

    @Override
    public void retarget(String path, String query) {
        if (state != State.OPEN) {
            throw new IllegalStateException("rewrite after the response started: " + path);
        }
        target = new RequestTarget(target.authority(), path, query, target.originForm());
    }

    /** Routes this exchange again ({@link #redirect}): its target changed. */
    void reroute(Route newRoute) {
        route = newRoute;
        answering = null;
        answeringUri = null;
        answeringQuery = null;
        bodyLocation = null;
        backendGroup = null;
    }

    @Override
    public void backendGroup(String group) {
        backendGroup = group;
    }

    @Override
    public String backendGroup() {
        return backendGroup;
    }

    @Override
    public Matcher captures(Pattern regex, String subject) {
        if (regex != capturesRegex || !subject.equals(capturesSubject)) {
            captures = Exchange.super.captures(regex, subject);
            capturesRegex = regex;
            capturesSubject = subject;
        }
        return captures;
    }

    @Override
    public String secureLinkVerdict(LocationSettings location) {
        return location == secureLinkLocation ? secureLinkVerdict : null;
    }

    @Override
    public void secureLinkVerdict(LocationSettings location, String verdict) {
        secureLinkLocation = location;
        secureLinkVerdict = verdict;
    }

    @Override
    public Map<VariableMap, String> mapValues() {
        if (mapValues == null) {
            mapValues = new IdentityHashMap<>(4);
        }
        return mapValues;
    }

    @Override
    public String requestId() {
        if (requestId == null) {
            requestId = Variables.newRequestId();
        }
        return requestId;
    }

    @Override
    public void withLocationHeaders() {
        locationHeadersAlways = true;
    }

    /**
     * The request was refused before a location was chosen (routed to its site's "/" for that site's error page): its
     * answer gets the server's headers ({@link HttpConnectionHandler#unroutedHeaders}) and none of that location's, as
     * nginx's 400 gets the server's add_header ... always and no location's.
     */
    void refusedUnrouted() {
        unrouted = true;
    }

    /**
     * Its site's rewrites answer it, before a location was chosen (nginx's server-level {@code return 403}): its answer
     * gets the server's headers as {@link #refusedUnrouted}'s, and an error goes to the site's page as a location's
     * does, as nginx's error_page runs at its server rewrite phase (measured: {@code if ($arg_deny) { return 403; }}
     * in a server block ran {@code error_page 403 /403.php}).
     */
    void answeredBySite() {
        unrouted = true;
        siteAnswered = true;
    }

    @Override
    public ErrorPage errorPage(HttpResponseStatus status) {
        sentPage = errorPaged ? null : Exchange.super.errorPage(status);
        return sentPage;
    }

    @Override
    public LocationSettings locationOf(String path) {
        return connection.locationOf(this, path);
    }

    @Override
    public boolean serverTokens() {
        return connection.server().settings().serverTokens();
    }

    @Override
    public Channel clientChannel() {
        return ctx.channel();
    }

    @Override
    public FileEngine files() {
        return connection.files(this);
    }

    /** The connection it came on. */
    HttpConnectionHandler connection() {
        return connection;
    }

    /**
     * The client: the connection's peer, or whom a trusted proxy there names ({@code server.real-ip}), as the settings
     * were when first asked ({@link #realIp()}); taken once per exchange.
     */
    @Override
    public InetSocketAddress remoteAddress() {
        InetSocketAddress found = client;
        if (found == null) {
            Channel clientConnection = connection.clientConnection();
            found = ClientAddress.of(ProxyProtocol.peer(clientConnection), ProxyProtocol.expected(clientConnection),
                    request.headers(), realIp());
            client = found;
        }
        return found;
    }

    /**
     * Whether the client came over TLS: to a listener marked ssl, or to a proxy in front that says so
     * ({@code server.real-ip}), by the settings that judged the client ({@link #realIp()}); taken once per exchange.
     */
    @Override
    public boolean https() {
        if (scheme == 0) {
            Channel channel = connection.clientConnection();
            InetSocketAddress peer = channel.remoteAddress() instanceof InetSocketAddress inet ? inet : null;
            scheme = endsTls() || ClientScheme.https(peer, ProxyProtocol.expected(channel),
                    ProxyProtocol.clientTls(channel), request.headers(), realIp()) ? (byte) 2 : (byte) 1;
        }
        return scheme == 2;
    }

    @Override
    public boolean endsTls() {
        return connection.endsTls();
    }

    /**
     * The server's real-ip settings when first asked, kept for the exchange: its client (taken as it comes, for access
     * rules and limits) and its scheme (taken when a script runs or the cache is asked, perhaps after a limit-req wait
     * or an upload) are judged by the same. Each read at its time, a reload in between that stopped trusting a proxy
     * left its named client (by its word) without the https it said (no longer believed).
     */
    private ServerSettings.RealIp realIp() {
        ServerSettings.RealIp taken = realIp;
        if (taken == null) {
            taken = connection.server().settings().realIp();
            realIp = taken;
        }
        return taken;
    }

    @Override
    public InetSocketAddress localAddress() {
        return ProxyProtocol.socketAddress(connection.clientConnection(), false);
    }

    // ---- request body

    void offerBody(HttpContent content) {
        bodyArrived = true;
        if (state == State.DONE && bodyConsumer == null) {
            content.release();
            return;
        }
        if (bodyConsumer != null) {
            deliver(content);
        } else if (earlyBody == null && content instanceof LastHttpContent) {
            earlyBody = List.of(content); // the whole body, most often none (a GET's empty end): nothing follows it
        } else {
            if (earlyBody == null) {
                earlyBody = new ArrayList<>(4);
            }
            earlyBody.add(content);
        }
    }

    /**
     * The connection gives up on the request's body ({@code failure}): over the limit or unreadable as it came (413,
     * 400), or the client stopped sending it (408); the rest of it is never read, and the connection closes after the
     * answer. Answered at once, but where the site's page for a 413 or 400 is a path a script or proxy location takes
     * and no responder asks for the body yet (a script being looked up): held until one does ({@link #readBody}), so
     * that the page runs in its place ({@link #toNamedErrorPage}), never beside a responder still at work; one that
     * answers without the body (a file's GET) answers as it would.
     */
    void bodyFailed(HttpStatusException failure) {
        if (heldBodyFailure != null) {
            return; // the first failure is the one answered
        }
        bodyGivenUp = true;
        int code = failure.status().code();
        ErrorPage page = site() == null || errorPaged ? null : site().namedErrorPage(code);
        boolean held = state == State.OPEN && bodyConsumer == null && page != null && page.routed()
                && (code == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()
                || code == HttpResponseStatus.BAD_REQUEST.code());
        if (!held) {
            fail(failure);
            return;
        }
        heldBodyFailure = failure;
        dropEarlyBody();
        connection.dropBody(this);
    }

    @Override
    public void readBody(Consumer<HttpContent> onContent, Runnable onIncomplete) {
        bodyConsumer = onContent;
        bodyIncomplete = onIncomplete;
        if (heldBodyFailure != null) {
            // the responder waits for a body that will not come whole: answered now, the site's page in its place
            HttpStatusException failure = heldBodyFailure;
            heldBodyFailure = null;
            fail(failure);
            return;
        }
        if (awaitsContinue() && state == State.OPEN) {
            sendContinue();
        }
        if (earlyBody != null) {
            List<HttpContent> early = earlyBody;
            earlyBody = null;
            for (HttpContent content : early) {
                deliver(content);
            }
        }
    }

    @Override
    public void upstreamStarted(long waitNanos, long connectNanos) {
        upstreamConnectNanos += connectNanos;
        upstreamQueueNanos += Math.max(0, waitNanos - connectNanos);
        upstreamStart = System.nanoTime();
        upstreamEnd = 0;
    }

    @Override
    public void upstreamQueued(long waitNanos) {
        if (upstreamStart == 0) {
            upstreamQueueNanos += waitNanos;
            upstreamQueuedOnly = true;
        }
    }

    @Override
    public void upstreamEnded() {
        if (upstreamStart != 0 && upstreamEnd == 0) {
            upstreamEnd = System.nanoTime();
        }
    }

    @Override
    public void upstreamAddress(SocketAddress backend) {
        if (upstreamAddress != null) { // a try before this one: listed first, as nginx lists each upstream tried
            triedAddresses = (triedAddresses == null ? "" : triedAddresses) + AccessLog.upstreamAddress(upstreamAddress)
                    + ", ";
            triedStatuses = (triedStatuses == null ? "" : triedStatuses)
                    + (upstreamStatus == 0 ? "-" : Integer.toString(upstreamStatus)) + ", ";
        }
        upstreamAddress = backend;
        upstreamStatus = 0;
    }

    @Override
    public void upstreamStatus(int status) {
        upstreamStatus = status;
    }

    @Override
    public void cacheStatus(CacheStatus status) {
        cacheStatus = status;
    }

    /** nginx's {@code $upstream_cache_status}: null where the cache did not look the request up. */
    @Override
    public CacheStatus cacheStatus() {
        return cacheStatus;
    }

    @Override
    public void limitReqStatus(LimitStatus status) {
        limitReqStatus = status;
    }

    @Override
    public LimitStatus limitReqStatus() {
        return limitReqStatus;
    }

    @Override
    public void limitConnStatus(LimitStatus status) {
        limitConnStatus = status;
    }

    @Override
    public LimitStatus limitConnStatus() {
        return limitConnStatus;
    }

    @Override
    public String requestLine() {
        return sentMethod() + " " + sentUri + " " + sentVersion;
    }

    /** More of the request's body was read: its last byte so far is at {@code received} (see the constructor). */
    void receivedTo(long received) {
        receivedTo = received;
    }

    @Override
    public void pauseBody(boolean paused) {
        connection.pauseBody(this, paused);
    }

    @Override
    public Runnable holdBackends() {
        return connection.holdRoutes(this);
    }

    /** Whether a responder asked for the body ({@link #readBody}): what limit it is held to is settled then. */
    boolean bodyRequested() {
        return bodyConsumer != null;
    }

    @Override
    public boolean awaitsContinue() {
        return expectsContinue && !continueSent && !bodyArrived;
    }

    /**
     * Not through {@link #track}: an interim response, not this exchange's head. Only the running exchange reads
     * its body, so every earlier response on the connection was written before this (see the class comment).
     */
    private void sendContinue() {
        continueSent = true;
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                Unpooled.EMPTY_BUFFER)).addListener((ChannelFutureListener) written -> {
                    if (written.isSuccess()) {
                        continueWent = true;
                        connection.continueWritten();
                    } else {
                        written.channel().close();
                    }
                });
    }

    private void deliver(HttpContent content) {
        bodyRead += content.content().readableBytes(); // counted before the consumer, its new owner, may release it
        if (content instanceof LastHttpContent) {
            bodyIncomplete = null;
            bodyReadWhole = true;
        }
        bodyConsumer.accept(content);
    }

    @Override
    public long bodyLengthRead() {
        return bodyReadWhole ? bodyRead : -1;
    }

    /** The exchange is over, so is its request body: release what was held, tell a consumer still waiting. */
    private void endBody() {
        dropEarlyBody();
        Runnable incomplete = bodyIncomplete;
        bodyIncomplete = null;
        if (incomplete != null) {
            incomplete.run();
        }
    }

    /** Releases the body that came before a responder asked for it. */
    private void dropEarlyBody() {
        if (earlyBody != null) {
            earlyBody.forEach(ReferenceCountUtil::release);
            earlyBody = null;
        }
    }

    // ---- response

    @Override
    public void offerCompression() {
        offerCompression(-1);
    }

    @Override
    public void offerCompression(long bodyLength) {
        compressionOffered = true;
        offeredLength = bodyLength;
    }

    @Override
    public void offerCompressionOfFile() {
        offeredFile = true;
    }

    @Override
    public HttpHeaders accelFields() {
        if (keptWithFile == null) {
            return carried != null ? carried : EmptyHttpHeaders.INSTANCE;
        }
        return carried == null ? keptWithFile : laterOver(carried, keptWithFile);
    }

    @Override
    public void keepAccelFields(HttpHeaders fields) {
        keptWithFile = fields; // the same again where a file that shrank is sent anew
    }

    @Override
    public void offerCompression(long bodyLength, String bodyType) {
        offerCompression(bodyLength);
        offeredType = bodyType;
    }

    @Override
    public void offerCompression(CompressedForm kept) {
        offerCompression(-1);
        compressedForm = kept;
    }

    @Override
    public boolean compresses(HttpResponse answer, long length) {
        LocationSettings answering = location();
        LocationSettings.Gzip zip = answering == null ? null : answering.gzip();
        return zip != null && GzipFilter.compresses(request, answer, length, zip, answering.gzipClients());
    }

    @Override
    public void offerRanges() {
        rangesOffered = true;
    }

    @Override
    public ChannelFuture write(Object message) {
        Object out = track(message, false);
        return out == null ? heldWrite() : headWatched(counted(out, false));
    }

    @Override
    public ChannelFuture writeAndFlush(Object message) {
        Object out = track(message, true);
        return out == null ? heldWrite() : headWatched(counted(out, true));
    }

    /**
     * The write of a message the image filter holds: done at once for a part of the body (the responder may send the
     * next), the image filter's answer's write for the last ({@link #imageWritten}: its end is the answer's).
     */
    private ChannelFuture heldWrite() {
        if (imageLastHeld) {
            imageLastHeld = false;
            return imageWritten;
        }
        return ctx.newSucceededFuture();
    }

    /** {@code write}: if it holds the head and the access log counts it ({@link #headPending}), told once it went. */
    private ChannelFuture headWatched(ChannelFuture write) {
        if (headPending) {
            headPending = false;
            write.addListener(f -> headWent |= f.isSuccess());
        }
        return write;
    }

    @Override
    public void flush() {
        if (gzip != null) { // set with the head, null again once the body or the exchange ended
            HttpContent held = gzip.flushed(); // what zlib kept of the parts written since the last flush
            if (held != null) {
                counted(held, false);
            }
        }
        ctx.flush();
    }

    /**
     * {@code message} as it goes to the client: a head with the location's headers filter and gzip applied, a body part
     * compressed if the body is ({@code flush}: all of it given to the client now); its body bytes counted.
     */
    private Object track(Object message, boolean flush) {
        if (message instanceof HttpResponse response) {
            if (state != State.OPEN) {
                ReferenceCountUtil.release(message);
                throw new IllegalStateException("response head written twice");
            }
            state = State.HEAD_SENT;
            // The version this server speaks, whatever the client's (RFC 9110 6.2), as nginx answers
            response.setProtocolVersion(HttpVersion.HTTP_1_1);
            if (errStatus != 0 && response.status().code() != errStatus) {
                // a named location's answer to an error: the error's status, or error-pages' "=200", as nginx's
                // header filter sends err_status
                response.setStatus(HttpResponseStatus.valueOf(errStatus));
            }
            status = response.status().code();
            if (!response.headers().contains(HttpHeaderNames.DATE)) {
                response.headers().add(HttpHeaderNames.DATE, HttpDate.now());
            }
            ServerField.add(response.headers(), connection.server().settings());
            // nginx's headers filter: the answering location's expires, then its add_header, on the statuses it
            // names, whoever answered (a file, a script, the response cache). It runs on what goes to the client
            // only: the response cache has judged (and copied) a script's own headers before.
            if (carried != null) {
                addCarried(response);
            }
            LocationSettings location = location();
            boolean routed = !unrouted && location != null;
            // a redirect's page (error-pages' 301): its headers are its own location's, below
            boolean redirectPage = sentPage != null && LocationSettings.addsHeaders(status);
            if (routed && !redirectPage && (LocationSettings.addsHeaders(status) || locationHeadersAlways)) {
                expires(response.headers(), location.expires());
                addHeaders(response.headers(), location.headers(), this); // checked when the configuration was read
            }
            // add_header ... always: every status. Refused before routing, or a path no location matches (its 404):
            // location-defaults', as nginx's server-level ones are there; the site's error page: its own location's.
            if (sentPage == null) {
                addHeaders(response.headers(), routed ? location.alwaysHeaders() : connection.unroutedHeaders(this),
                        this);
            } else {
                if (routed && locationHeadersAlways) {
                    // A file's 416: nginx's headers filter ran on the 200 it began as, before its range filter's 416
                    // went to the page, so that location's come first
                    addHeaders(response.headers(), location.alwaysHeaders(), this);
                }
                addPageHeaders(response, routed && locationHeadersAlways ? location : null, redirectPage);
            }
            String altSvc = connection.altSvc();
            if (altSvc != null && !response.headers().contains(HttpHeaderNames.ALT_SVC)) { // add_header's own first
                response.headers().set(HttpHeaderNames.ALT_SVC, altSvc);
            }
            // then nginx's sub filter, on any answer of the location's: a file's is read as bytes for it
            // (StaticResponder), not sent by sendfile. A site's error page: its own location's, as nginx's error_page
            // redirect finds it (its captures of the page's URI, $uri now), also where the request's own path reached
            // no location (nginx's redirect goes to the page's location all the same)
            LocationSettings filtering = sentPage == null ? location : ErrorResponses.pageLocation(site(), sentPage);
            // edge's own, before a filter remade it; a site's page where the request reached no location too (a path
            // none matches, a request refused before routing): nginx's error_page redirect finds the page's location
            boolean page = (routed || sentPage != null) && ErrorResponses.isPage(response);
            if ((routed || sentPage != null) && filtering != null && filtering.subFilter() != null) {
                sub = SubFilter.begin(request, isHead(), response, filtering.subFilter(),
                        text -> SubFilter.value(this, filtering, text), ctx.alloc());
                if (sub != null && response instanceof FullHttpResponse whole) {
                    SubFilter filter = sub;
                    sub = null;
                    response = filter.filterWhole(whole);
                    message = response;
                    // the gzip a cached file keeps beside its bytes is of those, not of these, which may hold this
                    // request's variables: compressed anew, and not kept
                    compressedForm = null;
                }
            }
            // then nginx's image filter, on any answer of the location's but a 304 (an error page's too, as nginx's):
            // the head and body are held until the body is read whole and the image made (on a worker), and that
            // answer goes out instead (imageAnswer), without a range, as nginx's, and uncompressed (nginx's gzip
            // would compress it where gzip_types names its type: README)
            if (routed && imageWritten == null && ImageFilter.takes(filtering, status)) {
                holdForImage(response, filtering);
                return null;
            }
            // then nginx's gzip filter, on what the headers filter made: edge's own pages too (a 404's, a 403's), as
            // nginx's special responses go through it, by the gzip of the location answering; a site's page by its
            // own location's, as nginx's error_page redirect finds it
            // own pages, location-defaults', as nginx's server-level gzip compresses its special responses where no
            // location answers: a path none matches (its 404), a site's page whose own path none matches
            LocationSettings zipping = page ? filtering : location;
            boolean defaultsZip = site() != null && ErrorResponses.isPage(response) && (page ? filtering == null : !routed);
            LocationSettings.Gzip zip = defaultsZip ? site().gzip() : zipping != null ? zipping.gzip() : null;
            if ((compressionOffered || page || defaultsZip) && zip != null) {
                gzip = GzipFilter.begin(request, isHead(), response, offeredLength, offeredType, zip,
                        defaultsZip ? site().gzipClients() : zipping.gzipClients(), offeredFile && !page && !defaultsZip,
                        !defaultsZip && zipping.gzipStatic() ? accelFields() : null, ctx.alloc());
                if (gzip != null && response instanceof FullHttpResponse whole) {
                    GzipFilter filter = gzip;
                    gzip = null;
                    response = filter.encodeWhole(whole, compressedForm);
                    message = response;
                }
            }
            // then nginx's range filter, on an answer edge does not compress (one its script compressed is ranged as
            // it is, as nginx's range filter ranges it)
            if (rangesOffered && gzip == null && sub == null) {
                slicer = RangeSlicer.begin(request, response);
                if (slicer != null && slicer.refuses()) {
                    response = refuseRange(response, routed ? location : null);
                    message = response;
                    if (response instanceof FullHttpResponse) {
                        slicer = null; // the answer was whole: the page went in its place, nothing left to slice
                    }
                }
                status = response.status().code(); // a 206 or 416 now, as the client gets it
                if (slicer != null && response instanceof FullHttpResponse whole) {
                    response = slicer.sliceWhole(whole);
                    message = response;
                    slicer = null;
                }
            }
            offersTaken();
            // a 101's connection carries no other request: its Connection field (upgrade) is the backend's, not edge's
            keepAlive = upgrading ? false : decideKeepAlive(response);
            chunked = HttpUtil.isTransferEncodingChunked(response);
            sentHeaders = response.headers();
            sentStatus = response.status();
            headPending = connection.server().accessLog().countsHead();
        } else if (image != null && message instanceof HttpContent content) {
            if (sub != null) {
                content = sub.filter(content);
                if (content instanceof LastHttpContent) {
                    sub = null; // ended
                }
            }
            imageLastHeld = image.take(content);
            if (imageLastHeld) {
                imageRead();
            } else if (image.overflowed()) {
                imageDropping = true;
                imageRead();
            }
            return null;
        } else if (imageDropping && message instanceof HttpContent content) {
            if (sub != null) {
                content = sub.filter(content);
                if (content instanceof LastHttpContent) {
                    sub = null; // ended
                }
            }
            imageLastHeld = content instanceof LastHttpContent;
            imageDropping = !imageLastHeld;
            content.release();
            return null;
        } else if ((sub != null || gzip != null) && message instanceof HttpContent content) {
            if (sub != null) {
                content = sub.filter(content);
                message = content;
                if (content instanceof LastHttpContent) {
                    sub = null; // ended
                }
            }
            if (gzip != null) {
                message = gzip.encode(content, flush);
                if (message instanceof LastHttpContent) {
                    gzip = null; // ended
                }
            }
        } else if (slicer != null && message instanceof HttpContent content) {
            message = slicer.slice(content);
            if (message instanceof LastHttpContent) {
                slicer = null; // ended
            }
        }
        return message;
    }

    /**
     * The page of the site's {@link #sentPage} that goes as {@code response}: its location's always-headers (a field
     * {@code answered}, the location whose always-headers the answer has already, gave too once, not twice as nginx's)
     * and, for a redirect's page, its expires and headers; the page's URI is $uri from here.
     */
    private void addPageHeaders(HttpResponse response, LocationSettings answered, boolean redirectPage) {
        LocationSettings pageLocation = ErrorResponses.pageLocation(site(), sentPage);
        Map<String, VariableText> pageHeaders = pageLocation == null ? connection.unroutedHeaders(this)
                : pageLocation.alwaysHeaders();
        if (answered != null) {
            pageHeaders = new LinkedHashMap<>(pageHeaders);
            pageHeaders.entrySet().removeAll(answered.alwaysHeaders().entrySet());
        }
        // From here (the page's always-headers, the access log) the page's URI is $uri and its args none, as
        // nginx's error_page redirect makes them; the 416's headers before were the file's. Its location's
        // regex's captures are of that URI, as nginx's redirect finds them
        answeringUri = sentPage.uri();
        answeringQuery = "";
        if (redirectPage && pageLocation != null) {
            // nginx's headers filter runs after its error_page redirect, in the page's location: that
            // location's expires and add_header go with a redirect's page, none of the location that redirected
            expires(response.headers(), pageLocation.expires());
            addHeaders(response.headers(), pageLocation.headers(), this, pageLocation, sentPage.uri());
        }
        addHeaders(response.headers(), pageHeaders, this, pageLocation, sentPage.uri());
    }

    /**
     * The 416 that goes in place of {@code response}, a script's 200 whose range {@link #slicer} refused: edge's page
     * or the site's (with its location's always-headers but those {@code answered}, the location that answered, has
     * added already), as nginx's range filter's 416 becomes its special response, then its error_page redirect.
     */
    private HttpResponse refuseRange(HttpResponse response, LocationSettings answered) {
        ErrorPage page = errorPage(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
        FullHttpResponse refusal = ErrorResponses.response(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                isHead(), page, serverTokens());
        HttpResponse refused = slicer.refuseWith(response, refusal, ErrorResponses.sendsSitePage(refusal,
                HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, page));
        if (sentPage != null) {
            addPageHeaders(refused, answered, false);
        }
        return refused;
    }

    /** The offers of compression and ranges made for the head that was written are spent. */
    private void offersTaken() {
        compressionOffered = false;
        offeredFile = false;
        rangesOffered = false;
        offeredLength = -1;
        offeredType = null;
        compressedForm = null;
    }

    /**
     * Holds {@code response} (its head, and the body that follows) for {@code location}'s image filter. The answer's
     * keep-alive is judged now, as {@link #finish} hands it on before the image is made: for a head with a length,
     * which the image filter's answer always has.
     */
    private void holdForImage(HttpResponse response, LocationSettings location) {
        offersTaken();
        FullHttpResponse probe = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(),
                Unpooled.EMPTY_BUFFER);
        String connectionField = response.headers().get(HttpHeaderNames.CONNECTION);
        if (connectionField != null) {
            probe.headers().set(HttpHeaderNames.CONNECTION, connectionField);
        }
        HttpUtil.setContentLength(probe, 0);
        keepAlive = upgrading ? false : decideKeepAlive(probe);
        imageConnection = probe.headers().get(HttpHeaderNames.CONNECTION);
        image = new ImageFilter(location.imageFilter(), response, isHead());
        imageLocation = location;
        imageWritten = ctx.newPromise();
        imageClosed = closed -> imageWritten.tryFailure(new ClosedChannelException());
        ctx.channel().closeFuture().addListener(imageClosed);
        if (response instanceof FullHttpResponse whole) {
            imageLastHeld = image.take(whole);
            imageRead();
        } else {
            ReferenceCountUtil.release(response);
            if (image.overflowed()) { // its Content-Length over the buffer: 415 before any of it is read, as nginx's
                imageDropping = true;
                imageRead();
            }
        }
    }

    /**
     * The image filter read the body whole: answers what it decided on the event loop, or hands the image to the
     * workers (none free and the queue full: 503), whose answer comes back to this loop.
     */
    private void imageRead() {
        ImageFilter filter = image;
        image = null;
        LocationSettings location = imageLocation;
        ImageFilter.Step step = filter.decide(text -> text.constant() != null ? text.constant()
                : Variables.render(this, location, uri(), text.parts(), Variables.Escape.NONE));
        if (step instanceof ImageFilter.Step.Answer answer) {
            imageAnswer(answer.response());
        } else if (step instanceof ImageFilter.Step.Refuse refuse) {
            imageRefused(refuse.why());
        } else if (step instanceof ImageFilter.Step.Work work) {
            ImageWorkers workers = connection.server().images();
            long maxPixels = workers.maxPixels();
            Duration timeout = workers.timeout();
            EventExecutor loop = ctx.executor();
            ChannelPromise written = imageWritten; // failed when the connection closes (imageClosed)
            Channel clientChannel = ctx.channel();
            boolean taken = workers.submit(() -> {
                Runnable answer;
                try {
                    // from when the worker starts on it: the wait in the queue is bounded by the queue's length
                    FullHttpResponse made = filter.make(work.job(), maxPixels, ImageMaker.Deadline.after(timeout));
                    answer = () -> imageAnswer(made);
                } catch (ImageMaker.RefusedImageException refused) {
                    answer = () -> imageRefused(refused.getMessage());
                } catch (Throwable fault) {
                    // any: an Error unanswered held the request, and those after it, for good (AWT's AWTError without
                    // an X server where java.awt.headless=false, a StackOverflowError)
                    answer = () -> {
                        IMAGES.warn(fault.getClass(), logTag + request.method() + " "
                                + LogText.escapeBytes(request.uri()) + ": image filter failed: " + fault);
                        imageError(HttpResponseStatus.INTERNAL_SERVER_ERROR);
                    };
                }
                try {
                    loop.execute(answer);
                } catch (RejectedExecutionException stopped) {
                    // the loop is gone with its connections: nobody to answer
                }
            }, () -> written.isDone() || !clientChannel.isActive()); // its body, heap bytes, goes with the job
            if (!taken) {
                OVERLOAD.warn(ImageFilter.class, logTag + request.method() + " " + LogText.escapeBytes(request.uri())
                        + ": 503, every image-filter worker busy and its queue full (server.image-filter)");
                imageError(HttpResponseStatus.SERVICE_UNAVAILABLE);
            }
        }
    }

    /** The image filter refused the answer: 415, as nginx's, which logs why at its error level. */
    private void imageRefused(String why) {
        IMAGES.warn(ImageFilter.class, logTag + request.method() + " " + LogText.escapeBytes(request.uri())
                + ": image filter: " + why);
        imageError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE);
    }

    /**
     * {@code status} in place of the held answer, as nginx's special response after a filter refused it: the site's
     * page for it (also once the responder ended, a worker's answer), with the always-headers of the page's location,
     * or of the image filter's where there is no page, as nginx's goes through its header filters again.
     */
    private void imageError(HttpResponseStatus status) {
        ErrorPage page = errorPage(status);
        FullHttpResponse response = ErrorResponses.response(status, isHead(), page, serverTokens());
        if (page == null) {
            addHeaders(response.headers(), imageLocation.alwaysHeaders(), this, imageLocation, uri());
        } else {
            LocationSettings pageLocation = ErrorResponses.pageLocation(site(), page);
            answeringUri = page.uri(); // as the head written for a page: $uri is the page's, its args none
            answeringQuery = "";
            addHeaders(response.headers(), pageLocation == null ? connection.unroutedHeaders(this)
                    : pageLocation.alwaysHeaders(), this, pageLocation, page.uri());
        }
        imageAnswer(response);
    }

    /** Writes the image filter's answer in place of the held one; {@link #imageWritten} ends with its write. */
    private void imageAnswer(FullHttpResponse response) {
        ChannelPromise written = imageWritten;
        if (written.isDone() || !ctx.channel().isActive()) {
            response.release();
            written.tryFailure(new ClosedChannelException());
            return;
        }
        ctx.channel().closeFuture().removeListener(imageClosed);
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (!response.headers().contains(HttpHeaderNames.DATE)) {
            response.headers().add(HttpHeaderNames.DATE, HttpDate.now());
        }
        ServerField.add(response.headers(), connection.server().settings());
        if (imageConnection != null) {
            response.headers().set(HttpHeaderNames.CONNECTION, imageConnection);
        } else {
            response.headers().remove(HttpHeaderNames.CONNECTION);
        }
        status = response.status().code();
        chunked = false;
        sentHeaders = response.headers();
        sentStatus = response.status();
        headPending = connection.server().accessLog().countsHead();
        headWatched(counted(response, true)).addListener(f -> {
            if (f.isSuccess()) {
                written.trySuccess();
            } else {
                written.tryFailure(f.cause());
            }
        });
    }

    /**
     * Writes {@code message}, its body bytes counted as handed over now ({@link #bodyBytes}) and as sent once the
     * kernel took them ({@link #sentBytes}: of a write that failed, what of it went).
     */
    private ChannelFuture counted(Object message, boolean flush) {
        long bytes = wireBytes(message);
        if (bytes == 0) {
            return flush ? ctx.writeAndFlush(message) : ctx.write(message);
        }
        bodyBytes += bytes;
        // Of a write that fails (its client left mid-answer), what went: a file region counts it; a buffer has its
        // reader index moved past it by the channel, and is held until the write is done to be read then (once
        // released, a pooled buffer may already serve another answer). A direct one, that is: the epoll channel writes
        // a copy of a heap buffer (error pages), and the encoder one of a small body it merged into the head's buffer,
        // and those count nothing of a failed write.
        FileRegion region = message instanceof FileRegion r ? r : null;
        ByteBuf content = region != null ? null
                : message instanceof ByteBufHolder holder ? holder.content() : (ByteBuf) message;
        long data = region != null ? region.count() : content.readableBytes();
        // a chunk's size line goes before its data: if any of the data went, so did the line
        int sizeLine = chunked && data > 0 ? Long.toHexString(data).length() + 2 : 0;
        int from = content == null ? 0 : content.retain().readerIndex();
        ChannelFuture write = flush ? ctx.writeAndFlush(message) : ctx.write(message);
        write.addListener(f -> {
            long went = f.isSuccess() ? 0
                    : region != null ? region.transferred() : Math.max(0, content.readerIndex() - from);
            sentBytes += f.isSuccess() ? bytes : went > 0 ? went + sizeLine : 0;
            if (content != null) {
                content.release();
            }
        });
        return write;
    }

    /** The bytes {@code message} puts on the wire as body, chunk framing included; 0 for a body the encoder drops. */
    private long wireBytes(Object message) {
        if (!sendsBody()) {
            return 0; // the encoder drops what a HEAD's, a 1xx's, a 204's or a 304's answer holds
        }
        long bytes;
        if (message instanceof ByteBufHolder holder) {
            bytes = holder.content().readableBytes();
        } else if (message instanceof ByteBuf buf) {
            bytes = buf.readableBytes();
        } else if (message instanceof FileRegion region) {
            bytes = region.count();
        } else {
            return 0;
        }
        if (chunked) {
            if (bytes > 0) {
                bytes += Long.toHexString(bytes).length() + 4; // "<hex>\r\n", the data, "\r\n"
            }
            if (message instanceof LastHttpContent) {
                bytes += 5; // "0\r\n\r\n": no trailers are sent
            }
        }
        return bytes;
    }

    /**
     * Sets {@code Cache-Control} and {@code Expires} for a location's {@code expires} (null: leaves them), as nginx's
     * expires does: in place of every {@code Cache-Control} and {@code Expires} the answer had (a script's, a file's
     * X-Sendfile backend's), {@code max-age} and now plus it, or for a negative one {@code no-cache} and a date in 1970.
     * Without the response cache's {@code Age}, as nginx sends none of its own: a client counts max-age from the age it
     * is told (RFC 9111 4.2.3), so a hit aged past the location's expires would go out already stale.
     */
    private static void expires(HttpHeaders headers, Duration expires) {
        if (expires == null) {
            return;
        }
        headers.remove(HttpHeaderNames.AGE);
        if (expires.isNegative()) {
            headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE).set(HttpHeaderNames.EXPIRES, EXPIRED);
            return;
        }
        headers.set(HttpHeaderNames.CACHE_CONTROL, "max-age=" + expires.getSeconds())
                .set(HttpHeaderNames.EXPIRES, HttpDate.format(System.currentTimeMillis() + expires.toMillis()));
    }

    /**
     * Adds a location's {@code headers} as nginx's add_header does: {@code Last-Modified} and {@code ETag} in place of
     * the answer's own (an empty value removes it), any other field unless its value is empty; a value's variables
     * those of {@code exchange} (null: outside any, where they are empty: {@link Variables#field}). Taken as the head
     * goes out, never kept in what the response cache stores: each answer, a hit too, gets its own.
     */
    static void addHeaders(HttpHeaders headers, Map<String, VariableText> added, Exchange exchange) {
        addHeaders(headers, added, exchange, null, null);
    }

    /**
     * As above, for {@code added} of {@code location} (its regex's captures of {@code uri}), not the exchange's; null:
     * the exchange's.
     */
    private static void addHeaders(HttpHeaders headers, Map<String, VariableText> added, Exchange exchange,
            LocationSettings location, String uri) {
        added.forEach((name, text) -> {
            if (HttpHeaderNames.LAST_MODIFIED.contentEqualsIgnoreCase(name)
                    || HttpHeaderNames.ETAG.contentEqualsIgnoreCase(name)) {
                headers.remove(name);
            }
            String value = location == null ? Variables.field(exchange, text)
                    : Variables.field(exchange, location, uri, text);
            if (!value.isEmpty()) {
                headers.add(name, value);
            }
        });
    }

    private boolean decideKeepAlive(HttpResponse response) {
        if (connection.isStream()) {
            return false; // an HTTP/2 stream ends with its answer, and HTTP/2 has no Connection field (RFC 9113 8.2.2)
        }
        HttpHeaders headers = response.headers();
        boolean framed = HttpUtil.isContentLengthSet(response) || HttpUtil.isTransferEncodingChunked(response)
                || !sendsBody();
        boolean keep = HttpUtil.isKeepAlive(request) && framed
                && !headers.contains(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true)
                && connection.keepsAlive() && !connection.closeAfterCurrent() && connection.carriesAnother()
                && !connection.server().isDraining()
                && !awaitsContinue(); // edge's own errors that close say so in their headers (ErrorResponses)
        if (!keep) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        return keep;
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    @Override
    public void onWritable(Runnable task) {
        if (ctx.channel().isWritable()) {
            task.run();
            return;
        }
        if (writableTasks == null) {
            writableTasks = new ArrayList<>(2);
        }
        writableTasks.add(task);
    }

    void runWritableTasks() {
        if (writableTasks == null || state == State.DONE) {
            return;
        }
        List<Runnable> tasks = writableTasks;
        writableTasks = null;
        tasks.forEach(Runnable::run);
    }

    @Override
    public boolean upgradable() {
        return state == State.OPEN && connection.upgradable(this);
    }

    @Override
    public ChannelFuture upgrade(HttpResponse head, ChannelHandler tunnel) {
        if (!upgradable() || head.status().code() != HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            ReferenceCountUtil.release(head);
            throw new IllegalStateException("no upgrade here");
        }
        upgrading = true;
        write(head);
        // the encoder's message ends here: what follows is the tunnel's, past the encoder
        ChannelFuture written = writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        connection.upgrade(this, tunnel);
        return written;
    }

    @Override
    public void tunnelEnded(ChannelFuture lastWrite, long bytesSent) {
        if (!upgrading || state == State.DONE) {
            return;
        }
        sentBytes += bytesSent;
        bodyBytes += bytesSent;
        completeAndClose(lastWrite);
    }

    @Override
    public void complete(ChannelFuture lastWrite) {
        if (state == State.DONE) {
            return;
        }
        if (state == State.OPEN) {
            throw new IllegalStateException("complete() before a response head was written");
        }
        finish(lastWrite);
    }

    @Override
    public void completeAndClose(ChannelFuture lastWrite) {
        keepAlive = false;
        complete(lastWrite);
    }

    /** {@code cause}, for its stack trace in the log, where a 500 is an unforeseen fault; else null. */
    private static Throwable stackTraceOf(HttpResponseStatus errorStatus, Throwable cause) {
        return errorStatus.code() == 500 && ErrorResponses.wantsStackTrace(cause) ? cause : null;
    }

    @Override
    public void tagLogLines(String tag) {
        logTag = tag + " ";
    }

    @Override
    public void fail(Throwable cause) {
        if (state == State.DONE) {
            return;
        }
        HttpResponseStatus errorStatus = ErrorResponses.statusFor(cause);
        boolean cut = state == State.HEAD_SENT;
        if (cut) {
            // The client has the head: its status stands (as the access log says), the body is cut short. Closed
            // first: what is still queued fails, so the bytes counted sent are those the client was sent.
            state = State.DONE;
            endBody();
            endGzip();
            ctx.close();
        }
        if (ErrorResponses.isClientGone(cause)) {
            LOG.debug("{} {}: the client's connection ended: {}", logTag + request.method(),
                    LogText.escapeBytes(request.uri()), cause.toString());
        } else if (cut) {
            if (errorStatus.code() == 503) {
                // overload (no direct memory, no descriptor left): in bursts, as the 503s are
                OVERLOAD.warn(cause.getClass(), logTag + request.method() + " " + LogText.escapeBytes(request.uri())
                        + ": " + status + " response cut after " + sentBytes + " body bytes, closing the connection: "
                        + cause);
            } else if (errorStatus.code() >= 500) {
                LOG.warn("{} {}: {} response cut after {} body bytes, closing the connection: {}",
                        logTag + request.method(), LogText.escapeBytes(request.uri()), status, sentBytes,
                        cause.toString(), stackTraceOf(errorStatus, cause));
            } else {
                LOG.debug("{} {}: {} response cut after {} body bytes, closing the connection: {}",
                        logTag + request.method(), LogText.escapeBytes(request.uri()), status, sentBytes,
                        cause.toString());
            }
        } else if (errorStatus.code() == 503) {
            // the message alone ("fastcgi group php: no connection slot within 10000 ms"): its class says nothing more
            OVERLOAD.warn(cause.getClass(), logTag + request.method() + " " + LogText.escapeBytes(request.uri())
                    + " -> 503: " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()));
        } else if (cause instanceof HttpStatusException && ErrorResponses.isServerFault(errorStatus)) {
            // a condition its message explains (a location's regex that gave up on a crafted path), which a client
            // may bring about request after request: said now and then, no stack trace
            KNOWN_FAULTS.warn(HttpStatusException.class, logTag + request.method() + " "
                    + LogText.escapeBytes(request.uri()) + " -> " + cause.getMessage());
        } else if (ErrorResponses.isServerFault(errorStatus)) {
            LOG.warn("{} {} -> {}: {}", logTag + request.method(), LogText.escapeBytes(request.uri()),
                    errorStatus.code(), cause.toString(), stackTraceOf(errorStatus, cause));
        } else {
            LOG.debug("{} {} -> {}: {}", logTag + request.method(), LogText.escapeBytes(request.uri()),
                    errorStatus.code(), cause.toString());
        }
        if (cut) {
            log();
            connection.exchangeDone(this, ctx.newSucceededFuture(), false);
            runEndTasks();
            return;
        }
        sendError(errorStatus, ErrorResponses.retryAfterOf(cause));
    }

    @Override
    public void sendError(HttpResponseStatus errorStatus) {
        sendError(errorStatus, ErrorResponses.RETRY_AFTER_SECONDS);
    }

    /** {@code retryAfterSeconds}: what a 503's Retry-After says, 0 to leave it out. */
    private void sendError(HttpResponseStatus errorStatus, int retryAfterSeconds) {
        if (state != State.OPEN) {
            fail(new HttpStatusException(errorStatus, "error after the response head"));
            return;
        }
        // A TRACE of a static directory (or in a front controller's location) that is refused before an index or a file
        // could answer it (a dot name, a directory it may not open): refused all the same, as nginx refuses a TRACE of
        // any URI (see HttpConnectionHandler.refusedEverywhere). One with no index, or of none, or of a file, the static
        // path answers 405 itself.
        HttpResponseStatus status = HttpConnectionHandler.refusedEverywhere(request.method())
                && (errorStatus.code() == 403 || errorStatus.code() == 404) ? HttpResponseStatus.METHOD_NOT_ALLOWED
                : errorStatus;
        if (toNamedErrorPage(status)) {
            return;
        }
        FullHttpResponse response = ErrorResponses.response(status, isHead(), errorPage(status), retryAfterSeconds,
                serverTokens());
        if (response.status().code() == HttpResponseStatus.METHOD_NOT_ALLOWED.code()) { // not a missing page's 404
            response.headers().set(HttpHeaderNames.ALLOW, ErrorResponses.allowedMethods(location()));
        }
        if (keptWithFile != null) {
            ErrorResponses.addKeptWithFile(keptWithFile, response.headers());
        }
        ownErrorPage = true;
        ChannelFuture written = writeAndFlush(response);
        complete(written);
    }

    /**
     * Hands the request to the named location its site's error-pages name for {@code status} ({@code 404 = "@app"}) and
     * returns true, as nginx's error_page to a named location: its method, URI and query unchanged, its answer's status
     * the error's ({@code "@app"}), its own ({@code "= @app"}) or the one written ({@code "=200 @app"}). A page whose
     * path a script or proxy location takes ({@code 503 = "/busy.php"}, {@link ErrorPage#routed}) goes there as nginx's
     * error_page redirect to a URI does, with the error's status. Not for a
     * second error of the request, nor one refused before it was routed (but for its site's rewrites' answer), nor one
     * whose body is being read or went to a backend (an error met then goes out as it is); but a 413 or 400 of a body
     * refused or given up on before a backend was asked ({@link #bodyFailed}) goes to a path's page without it.
     */
    @Override
    public boolean toNamedErrorPage(HttpResponseStatus status) {
        errStatus = 0; // nginx's err_status: this error's own, unless a named location answers it
        SiteSettings site = site();
        if (state != State.OPEN) {
            return false;
        }
        // a site's rewrites' redirect (answered before a location was chosen, unrouted for its headers) goes to its
        // page as a location's does, as nginx's error_page at its server rewrite phase (measured: rewrite ^/perm$ /new
        // permanent at server level ran error_page 301 /moved.php); a request refused before routing is no redirect
        boolean redirect = status.codeClass() == HttpStatusClass.REDIRECTION;
        ErrorPage page = site == null || errorPaged || unrouted && !redirect && !siteAnswered ? null
                : site.namedErrorPage(status.code());
        // a body read, or being read, goes to no location that would wait for it again; one kept whole does (a
        // script's X-Accel-Redirect to a missing file: nginx's error_page sends the body it kept). A 413's or 400's
        // page runs without the body, below, for one declared over the limit, none of it come yet, or one found over
        // it or unreadable as it came while a responder read it whole for a script or a proxied backend not yet asked
        // (bodyFailed), as nginx's error_page 413 /413.php runs for a chunked body over client_max_body_size and
        // error_page 400 /400.php for a broken chunk (measured: the script saw a GET; nginx passes it the part of the
        // body read before, CONTENT_LENGTH 60 and those bytes, edge none of it)
        int code = status.code();
        boolean tooLarge = code == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code();
        boolean declaredTooLarge = tooLarge && !bodyArrived && HttpUtil.getContentLength(request, -1L) >= 0;
        boolean cutWhileRead = bodyGivenUp && bodyIncomplete != null && upstreamStart == 0
                && (tooLarge || code == HttpResponseStatus.BAD_REQUEST.code());
        boolean withoutBody = page != null && page.routed() && (declaredTooLarge || cutWhileRead);
        if (page == null || (tooLarge || bodyGivenUp) && !withoutBody
                || !withoutBody && bodyRequested() && keptBody == null) {
            return false;
        }
        errorPaged = true;
        errStatus = page.answerStatus() < 0 ? status.code() : page.answerStatus();
        if (keptWithFile != null) {
            // a script's fields on the way to its file (missing): nginx copied them into its request's fields, which
            // the named location's answer keeps, its type aside (the answer's own: the page is no longer that file)
            HttpHeaders fields = new DefaultHttpHeaders().add(keptWithFile).remove(HttpHeaderNames.CONTENT_TYPE);
            keptWithFile = null;
            carryHeaders(fields);
        }
        if (page.routed()) {
            // nginx's error_page 503 /busy.php: an internal redirect to the page's path, routed again (the site's
            // rewrites met), with the page's query in place of the request's (error_page 404 /404.php?x=1, measured:
            // QUERY_STRING x=1), as a GET (a HEAD kept) whose body goes on as it came (measured: php://input and
            // CONTENT_LENGTH the POST's), REQUEST_URI still the request's
            if (!isHead()) {
                request.setMethod(HttpMethod.GET);
            }
            unrouted = false; // the page's location answers, with its headers
            answersAsErrorPage = page.answerStatus() != 0;
            if (withoutBody) {
                // nginx's error_page 413 /413.php: the page runs without the body it refused (measured: php://input
                // empty, CONTENT_LENGTH still the refused one's; a proxied page's backend asked with Content-Length:
                // 0), and the connection closes after it. edge announces none: the page's location sees no body, and
                // what comes of it is dropped unread; what a responder read of it is let go.
                request.headers().remove(HttpHeaderNames.CONTENT_LENGTH).remove(HttpHeaderNames.TRANSFER_ENCODING);
                bodyConsumer = null;
                endBody();
                connection.dropBody(this);
            }
            redirect(page.uri(), page.query(), true);
        } else {
            redirectNamed(page.uri());
        }
        return true;
    }

    @Override
    public boolean answersAsErrorPage() {
        return answersAsErrorPage;
    }

    @Override
    public boolean toNamedErrorPage(HttpResponseStatus status, HttpHeaders fields) {
        HttpHeaders before = carried;
        // set before the redirect, which may answer at once (a named location's return)
        carried = new DefaultHttpHeaders();
        if (before != null) {
            carried.add(before);
        }
        for (String name : fields.names()) {
            carried.set(name, fields.getAll(name));
        }
        if (toNamedErrorPage(status)) {
            return true;
        }
        carried = before;
        return false;
    }

    private void finish(ChannelFuture lastWrite) {
        state = State.DONE;
        endBody();
        endGzip();
        writableTasks = null;
        if (connection.server().accessLog().isEnabled()) {
            lastWrite.addListener((ChannelFutureListener) f -> {
                completed = f.isSuccess();
                log();
            });
        }
        if (endTasks != null) {
            lastWrite.addListener((ChannelFutureListener) f -> runEndTasks()); // in progress until its last byte went
        }
        // Body bytes still to come are dropped by the connection handler, so framing stays intact.
        connection.exchangeDone(this, lastWrite, keepAlive);
    }

    /**
     * {@code text}'s value for this request as the UTF-8 bytes of a body's text ({@code location}'s sub-filter: the
     * captures of its regex on the request's URI, as its fastcgi-params').
     */
    /** Frees the gzip of a body that ended before its last part (a failed backend, a client gone). */
    private void endGzip() {
        if (gzip != null) {
            gzip.end();
            gzip = null;
        }
    }

    @Override
    public String authenticatedUser() {
        return authenticatedUser;
    }

    @Override
    public void authenticated(String user) {
        authenticatedUser = user;
    }

    @Override
    public boolean claimLimitCount() {
        if (limitCounted) {
            return false;
        }
        limitCounted = true;
        return true;
    }

    @Override
    public long bodyBytesWritten() {
        return bodyBytes;
    }

    @Override
    public boolean claimConnCount() {
        if (connCounted) {
            return false;
        }
        connCounted = true;
        return true;
    }

    @Override
    public void keepBody(WholeBody body, Runnable release) {
        if (body == keptBody) {
            release.run(); // a second redirect's: held until the end already
            return;
        }
        keptBody = body;
        whenEnded(release);
    }

    @Override
    public WholeBody keptBody() {
        return keptBody;
    }

    @Override
    public void whenEnded(Runnable task) {
        if (state == State.DONE) {
            task.run(); // ended already
            return;
        }
        if (endTasks == null) {
            endTasks = new ArrayList<>(1);
        }
        endTasks.add(task);
    }

    /**
     * Whether its place is held until its answer is out: tasks wait for its end ({@link #whenEnded}), or its image
     * filter's answer is written later, which a pipelined request's answer must not pass.
     */
    boolean holdsPlaceUntilWritten() {
        return endTasks != null || imageWritten != null;
    }

    private void runEndTasks() {
        List<Runnable> tasks = endTasks;
        if (tasks != null) {
            endTasks = null;
            tasks.forEach(Runnable::run);
        }
    }

    @Override
    public void closeWithoutAnswer() {
        if (state != State.OPEN) {
            fail(new IllegalStateException("closing without an answer after the response head"));
            return;
        }
        status = Return.CLOSE; // what the access log says once the close ends the exchange (clientGone)
        keepAlive = false;
        // After what earlier pipelined answers still have queued (a large file's last chunks): writes go in order
        ctx.channel().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    void clientGone() {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        endBody();
        endGzip();
        if (status == 0) {
            status = 499; // nginx's code for a client that closed before the response
        }
        List<Runnable> tasks = goneTasks;
        goneTasks = null;
        try {
            if (tasks != null) {
                tasks.forEach(Runnable::run); // first: a request leaving a queue says how long it waited there
            }
        } finally {
            log();
        }
        runEndTasks();
    }

    @Override
    public boolean isEnded() {
        return state == State.DONE;
    }

    @Override
    public boolean bodyDropped() {
        return imageDropping;
    }

    @Override
    public void endOnClientClose(boolean ends) {
        endsOnClientClose = ends;
        if (ends) {
            connection.endIfInputClosed(this);
        }
    }

    boolean endsOnClientClose() {
        return endsOnClientClose;
    }

    @Override
    public void onClientGone(Runnable task) {
        if (goneTasks == null) {
            goneTasks = new ArrayList<>(2);
        }
        goneTasks.add(task);
    }

    private void log() {
        if (!connection.server().accessLog().isEnabled()) {
            return;
        }
        LocationSettings answered = location();
        if (answered != null && !answered.accessLog()) {
            return; // the location that answered keeps out of it (nginx's access_log off)
        }
        connection.server().accessLog().log(remoteAddress(), request, sentUri, sentVersion, status, sentBytes,
                startNanos, upstreamTimes(), this, sentHeaders);
    }

    /** nginx's {@code $upstream_addr}: each backend tried, or null where none was. */
    String loggedUpstreamAddresses() {
        if (upstreamAddress == null) {
            return null;
        }
        String last = AccessLog.upstreamAddress(upstreamAddress);
        return triedAddresses == null ? last : triedAddresses + last;
    }

    /** nginx's {@code $upstream_status}: each try's status ("-" for one that had none yet), or null where none was. */
    String loggedUpstreamStatuses() {
        if (upstreamAddress == null) {
            return null;
        }
        String last = upstreamStatus == 0 ? "-" : Integer.toString(upstreamStatus);
        return triedStatuses == null ? last : triedStatuses + last;
    }

    /** nginx's {@code $bytes_sent}: a {@code 100 Continue} and the head, if they went, and the body bytes sent. */
    long bytesSent() {
        return (continueWent ? AccessLog.headLength(HttpResponseStatus.CONTINUE, EmptyHttpHeaders.INSTANCE) : 0)
                + (headWent && sentStatus != null ? AccessLog.headLength(sentStatus, sentHeaders) : 0) + sentBytes;
    }

    /** nginx's {@code $request_length}: the request line, head and body as far as read. */
    long requestLength() {
        return receivedTo - receivedFrom;
    }

    /** nginx's {@code $connection}. */
    long connectionSerial() {
        return connection.serial();
    }

    /** nginx's {@code $connection_requests}: this request's number on its connection. */
    long connectionRequest() {
        return connectionRequest;
    }

    /** nginx's {@code $request_completion}: the answer went whole. */
    boolean completed() {
        return completed;
    }

    /** The backend's timings for the access log: null where no backend took the request and it waited for none. */
    private UpstreamTimes upstreamTimes() {
        if (upstreamStart != 0) {
            return new UpstreamTimes(upstreamQueueNanos, upstreamConnectNanos,
                    (upstreamEnd != 0 ? upstreamEnd : System.nanoTime()) - upstreamStart);
        }
        return upstreamQueuedOnly ? UpstreamTimes.queuedOnly(upstreamQueueNanos) : null;
    }
}
