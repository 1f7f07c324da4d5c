package io.edge.core.http;

import io.edge.aio.file.FileEngine;
import io.edge.conf.ErrorPage;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.conf.VariableMap;
import io.edge.core.tls.TlsContexts;
import io.edge.fastcgi.regex.BoundedMatch;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One request and its response on a client connection. Responses leave in request order: the core hands a
 * connection's next pipelined request to a responder only after this exchange completed.
 *
 * <p>A responder writes exactly one response: an {@code HttpResponse} followed by body messages
 * ({@code HttpContent}, {@code FileRegion}, {@code ByteBuf}) and a {@code LastHttpContent}, then calls
 * {@link #complete}. If nothing has been written yet it may instead call {@link #fail}, which answers with
 * the status chosen by {@code ErrorResponses}. All methods must be called on {@link #clientChannel()}'s
 * event loop.
 */
public interface Exchange {

    /** The request head. Its URI is as received; use {@link #path()} for routing and files. */
    HttpRequest request();

    /**
     * The version the request line named: {@link #request}'s own, except that an HTTP/1.x above 1.1 is read and
     * answered as 1.1 (RFC 9110 2.5) while this stays what was sent (the access log, CGI's {@code SERVER_PROTOCOL}).
     */
    default HttpVersion sentVersion() {
        return request().protocolVersion();
    }

    /** The percent-decoded, normalised path (always starts with '/', no "." or ".." segments). */
    String path();

    /**
     * nginx's {@code $uri}: the path of what is answered, {@link #path()} but after an X-Accel-Redirect, whose URI it
     * is then ({@link #answerAs(LocationSettings, String)}), and a site's error page's once its head goes (its
     * always-headers, the access log), as nginx's internal redirect makes it; "" for a request whose target could not
     * be parsed (nginx's "not found"). The captures of a regex location's headers and params are its.
     */
    default String uri() {
        return path();
    }

    /**
     * The raw query string without '?', or "" when there is none: an X-Accel-Redirect's once the exchange answers as
     * its URI ({@link #answerAs(LocationSettings, String, String)}).
     */
    String query();

    /** True for HEAD: the responder sends the headers a GET would get, and no body. */
    boolean isHead();

    /** Whether {@code request}'s head says a body follows: chunks, or a length above 0. */
    static boolean announcesBody(HttpRequest request) {
        return HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
    }

    /**
     * Whether {@code request} asks to turn its connection into another protocol's (RFC 9110 7.8): HTTP/1.1, an
     * {@code Upgrade} field and {@code upgrade} among the {@code Connection} field's tokens, and no body (what would
     * follow a body is not the request's). The decoder reads nothing after such a request until its answer is out
     * ({@link StrictHttpServerCodec}): the bytes after it may be the new protocol's, not a request's.
     */
    static boolean asksUpgrade(HttpRequest request) {
        return request.protocolVersion().equals(HttpVersion.HTTP_1_1)
                && request.headers().contains(HttpHeaderNames.UPGRADE)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && !announcesBody(request);
    }

    /** Whether a response of status {@code code} has a body (RFC 9112 6.3): not a 1xx, 204 or 304. */
    static boolean statusHasBody(int code) {
        return code >= 200 && code != 204 && code != 304;
    }

    SiteSettings site();

    LocationSettings location();

    /**
     * The location a request for {@code path} (decoded, normalised) to this exchange's host would be routed to, by
     * the routes this exchange runs on: where an index file found in a directory belongs. Null if none matches. By
     * default this exchange's own.
     *
     * @throws HttpStatusException 500 where a location's regex gave up on {@code path}, as a request for it is answered
     */
    default LocationSettings locationOf(String path) {
        return location();
    }

    /**
     * Answers this exchange as a request for {@code path} (decoded, normalised), its query kept: routed anew by the
     * routes it runs on and handed to that location's responder, as nginx's internal redirect does for a directory's
     * index file that another location runs. What the client sent (the request's URI: the access log, CGI's
     * {@code REQUEST_URI}, the response cache's key) stays. Nothing must have been written; the caller leaves the
     * exchange to the new responder. By default there is nowhere to go: the exchange fails.
     */
    default void redirect(String path) {
        fail(new IllegalStateException("no internal redirect to " + path + " here"));
    }

    /**
     * Answers this exchange by the named location {@code name} ({@code "@app"}) of its site, its method, URI and query
     * unchanged, as nginx's {@code try_files ... @app} and {@code error_page 404 = @app} hand a request there: counted
     * among the internal redirects, its site's rewrites not met again (nginx's named location starts at the location's
     * rewrite phase). A name no location of the site has (only a backend's {@code X-Accel-Redirect: @name} can give
     * one: the configuration's are checked) is answered 500 and a warning, as nginx's "could not find named location".
     * Nothing must have been written; the caller leaves the exchange to the new responder. By default there is nowhere
     * to go: the exchange fails.
     */
    default void redirectNamed(String name) {
        fail(new IllegalStateException("no internal redirect to " + name + " here"));
    }

    /**
     * Hands the request to the named location its site's error-pages name for {@code status} ({@code 405 = "@app"}) and
     * returns true, as nginx's error_page to a named location ({@link #sendError} does so itself): for an error a
     * responder answers with a response of its own (a file's 405, a limit's 503). False where none answers it: the
     * caller answers. By default none.
     */
    default boolean toNamedErrorPage(HttpResponseStatus status) {
        return false;
    }

    /**
     * As {@link #toNamedErrorPage(HttpResponseStatus)}, the refused answer's {@code fields} going with the named
     * location's answer where it has none of its own, as nginx's error_page to a named location keeps the headers its
     * module set before it gave up: auth-basic's WWW-Authenticate with a 401, a file's Content-Range and ETag with a
     * range's 416. By default none.
     */
    default boolean toNamedErrorPage(HttpResponseStatus status, HttpHeaders fields) {
        return false;
    }

    /**
     * As {@link #redirect(String)}, with {@code query} (raw, without '?'; "" for none) in place of the request's: a
     * location's {@code rewrite}. {@link #query} is it from now on; what the client sent stays as {@link #redirect}
     * says.
     */
    default void redirect(String path, String query) {
        fail(new IllegalStateException("no internal redirect to " + path + " here"));
    }

    /**
     * Takes {@code path} (decoded, normalised) and {@code query} as this exchange's from now on, without routing it
     * again: a rewrite without a flag, whose entries after it meet the new URI before the request is routed by it
     * ({@link #redirect(String, String)} then). What the client sent stays. By default there is no URI to change: the
     * exchange fails.
     */
    default void retarget(String path, String query) {
        fail(new IllegalStateException("no rewrite to " + path + " here"));
    }

    /**
     * Answers from now on as {@code location} would (null: as no location), though the responder stays: an
     * X-Accel-Redirect's target, as nginx's internal redirect hands a file to the location its URI routes to.
     * {@link #location} names it, so its {@code headers} and {@code expires} go with the answer and the routed
     * location's do not. The body limit stays the routed location's. Nothing must have been written. By default
     * nothing changes.
     */
    default void answerAs(LocationSettings location) {
    }

    /**
     * As {@link #answerAs(LocationSettings)}, for {@code uri} (decoded, normalised), an X-Accel-Redirect's:
     * {@link #uri} from now on, as nginx's internal redirect makes {@code $uri} (the access log's too). {@link #path}
     * stays the request's.
     */
    default void answerAs(LocationSettings location, String uri) {
        answerAs(location);
    }

    /**
     * As {@link #answerAs(LocationSettings, String)}, with {@code query} (raw, without '?'; "" for none) the
     * X-Accel-Redirect's: {@link #query} from now on ({@code $args}, {@code $arg_<name>}, {@code $is_args} of the
     * answer's headers and the access log), as nginx's internal redirect takes the redirect's arguments, none where it
     * has no '?'. The request line ({@code $request}, {@code $request_uri}) stays as sent.
     */
    default void answerAs(LocationSettings location, String uri, String query) {
        answerAs(location, uri);
    }

    /**
     * The page of this request's site for {@code status} ({@code error-pages}), or null: none, or no site. Asked for an
     * answer that sends it: that answer carries the always-headers of the location the page's URI routes to, not this
     * request's location's, as nginx's error_page is an internal redirect to that URI.
     */
    default ErrorPage errorPage(HttpResponseStatus status) {
        return site() == null ? null : site().errorPage(status.code());
    }

    /**
     * The request runs on as if routed to {@code location} too (a script whose URI another location takes, run where it
     * came in): its body is held to that location's {@code body-limit} from now, and one declared over it is refused
     * (413) before it is read (one that came already over it, at once), as nginx checks client_max_body_size at each
     * location an internal redirect finds. False
     * where it was refused so, the exchange answered. A body already asked for keeps its limit. By default nothing
     * changes.
     */
    default boolean holdBodyTo(LocationSettings location) {
        return true;
    }

    /**
     * Says that the answer about to be written goes with its own status, whatever error page led to the location
     * writing it: a return's or a rewrite's redirect, a directory's 301 to its slash, nginx's special response, which
     * sets its err_status to its own (error_page 401 @login with return 302 /login answers 302), where a named
     * location's other answers go with the error's status or error-pages' "=200". By default nothing changes.
     */
    default void answerWithOwnStatus() {
    }

    /**
     * The fields of a proxied answer's X-Accel-Redirect that go with every answer from now on, as nginx copies them into
     * the request's own before its internal redirect (Content-Type, Content-Disposition, Set-Cookie, Cache-Control,
     * Expires, Accept-Ranges: BackendFileNames.ACCEL_REDIRECT_KEPT): a field the answer has already stays as it is,
     * but for a file's 200 or 206, whose type is {@code headers}' Content-Type where that is not empty; their
     * Accept-Ranges goes with a 2xx only; the answering location's {@code expires} replaces their Cache-Control and
     * Expires. A second redirect's are added to the first's, its type in place of the first's, as nginx's request
     * holds both. They are also among the fields {@link #accelFields} gives. By default nothing changes.
     */
    default void carryHeaders(HttpHeaders headers) {
    }

    /** The method the request came with, nginx's in {@code $request}: a redirect may have made it a GET since. */
    default HttpMethod sentMethod() {
        return request().method();
    }

    /** The request line as the client sent it, as nginx's {@code $request}: {@code GET /a?b HTTP/1.1}. */
    default String requestLine() {
        return sentMethod() + " " + request().uri() + " " + request().protocolVersion();
    }

    /**
     * The location's {@code expires} and {@code headers} go with the next response head whatever its status: a file's
     * 416, which nginx answers with them since its headers filter sees the 200 the file began as before its range
     * filter turns it into a 416. By default nothing changes.
     */
    default void withLocationHeaders() {
    }

    /**
     * Starts the lines edge's error log writes of this exchange's failure (a 502, a 504, a response cut) with
     * {@code tag}: the request id a responder's own lines carry ({@code [1f]}), so that its failure can be told among
     * others. By default nothing is logged differently.
     */
    default void tagLogLines(String tag) {
    }

    /**
     * Whether edge's own pages for this exchange name edge's version, as its server's {@code server-tokens} says. By
     * default on, server-tokens' default.
     */
    default boolean serverTokens() {
        return true;
    }

    Channel clientChannel();

    /**
     * The file engine of the configuration the exchange runs on, which its rewrites' file tests ask
     * ({@link RewritePhase}); null where there is none (an exchange outside a server's routes).
     */
    default FileEngine files() {
        return null;
    }

    InetSocketAddress remoteAddress();

    /**
     * Whether the client came over TLS to a trusted proxy in front that ended it, as that proxy says
     * ({@code server.real-ip}: its scheme header, its PROXY protocol header's SSL field): PHP's HTTPS, nginx's
     * {@code $scheme}, and the response cache's keys follow it. Edge itself speaks plain HTTP: false elsewhere.
     */
    boolean https();

    /**
     * Whether the client's connection ends TLS here (a listener marked ssl): what is written to it is encrypted by
     * edge, so a file's bytes cannot go by {@code sendfile} and are better read into buffers by the file engine. By
     * default the channel's pipeline tells; a server's exchange knows it from its connection, with no lookup.
     */
    default boolean endsTls() {
        return TlsContexts.endsTls(clientChannel());
    }

    InetSocketAddress localAddress();

    /**
     * Receives the request body. Each chunk's ownership passes to {@code onContent}, which must release
     * it; the last chunk is a {@code LastHttpContent}. Chunks that arrived before this call are replayed
     * first. If the exchange ends before the last chunk reached {@code onContent} (answered early, a body
     * over the limit or malformed, the client gone), {@code onIncomplete} runs once instead and no more
     * chunks come: whatever the responder kept of the body is its to release then. A responder that never
     * calls this has the body discarded for it.
     *
     * <p>For a client that sent {@code Expect: 100-continue}, the first call (before a response head) is what
     * sends it {@code 100 Continue}; a responder that answers without calling it has the connection closed after
     * its response, since the client may never send the body.
     */
    void readBody(Consumer<HttpContent> onContent, Runnable onIncomplete);

    /**
     * Keeps {@code body}, this request's, read whole by a responder whose backend sends the request on (an
     * X-Accel-Redirect), for the location the request lands in ({@link #keptBody}), as nginx's request keeps the body
     * it read for every location it goes through; {@code release}, the hold taken on it for the exchange, runs once the
     * exchange ended (or at once, where it keeps that body already). By default nothing is kept.
     */
    default void keepBody(WholeBody body, Runnable release) {
        release.run();
    }

    /** {@link #keepBody}'s body, sent again where the request lands; null: none ({@link #readBody} reads the client). */
    default WholeBody keptBody() {
        return null;
    }

    /**
     * Whether the client still holds back the body it announced, waiting for a {@code 100 Continue} ({@code Expect:
     * 100-continue}): an answer now spares it the upload.
     */
    default boolean awaitsContinue() {
        return false;
    }

    /**
     * Stops ({@code true}) or resumes ({@code false}) reading this request's body from the client, for a responder
     * whose sink for it lags (a spool file behind the disk). The connection's own pauses stay in force either way,
     * and time paused does not count toward the body timeout. Ends with the exchange.
     */
    void pauseBody(boolean paused);

    /**
     * Keeps what this exchange's configuration runs on (after a reload, the previous one's backend pools and php-fpm)
     * open for work that outlives the exchange, such as a background refresh of a cached response, until the
     * returned release runs (once; running it again does nothing). Call it while the exchange runs.
     */
    default Runnable holdBackends() {
        return () -> { };
    }

    /**
     * A backend took the request now, after {@code waitNanos} in its group's queue of which {@code connectNanos} went
     * to connecting (0 for a kept-alive connection): the access log's upstream timings start. A retry on another
     * connection adds its wait and connect, and restarts the response time.
     */
    default void upstreamStarted(long waitNanos, long connectNanos) {
    }

    /**
     * The request waited {@code waitNanos} in its group's queue and has no connection: its wait ran out, or its client
     * left. The access log says the wait, with no connect or answer; nothing once a backend took the request.
     */
    default void upstreamQueued(long waitNanos) {
    }

    /** The backend's answer ended (or failed): the access log's upstream response time stops. */
    default void upstreamEnded() {
    }

    /**
     * The request went to the backend at {@code backend}, the peer of the connection it took (the access log's
     * {@code $upstream_addr}); after {@link #upstreamStarted}. A retry on another connection is a try of its own, as
     * nginx's next upstream is: the log lists them all.
     */
    default void upstreamAddress(SocketAddress backend) {
    }

    /**
     * The backend's answer to this try had {@code status} (the access log's {@code $upstream_status}), or the try
     * failed before any answer: 502, or 504 for a timeout, as nginx writes for a try that failed.
     */
    default void upstreamStatus(int status) {
    }

    /**
     * A try at {@code backend} that failed before any answer, for {@code failure}: listed in {@code $upstream_addr}
     * with the status that failure answers ({@link ErrorResponses#statusFor}: 502, 504 for a timeout), as nginx lists
     * a failed try.
     */
    default void upstreamFailed(SocketAddress backend, Throwable failure) {
        upstreamAddress(backend);
        upstreamStatus(ErrorResponses.statusFor(failure).code());
    }

    /** What the response cache made of this request, the access log's {@code $upstream_cache_status}: the last said. */
    default void cacheStatus(CacheStatus status) {
    }

    /** What its limit-req made of this request, the access log's {@code $limit_req_status}. */
    default void limitReqStatus(LimitStatus status) {
    }

    /** What its limit-req made of this request ({@link #limitReqStatus(LimitStatus)}), or null: none counted it. */
    default LimitStatus limitReqStatus() {
        return null;
    }

    /** What its limit-conn made of this request, the access log's {@code $limit_conn_status}. */
    default void limitConnStatus(LimitStatus status) {
    }

    /** What its limit-conn made of this request ({@link #limitConnStatus(LimitStatus)}), or null: none counted it. */
    default LimitStatus limitConnStatus() {
        return null;
    }

    /**
     * The group a variable of its location chose for this request ({@code proxy = "$pool"}), which its
     * {@code $proxy_host} is of: the last said.
     */
    default void backendGroup(String group) {
    }

    /** The group a variable chose for this request ({@link #backendGroup(String)}), or null: none chose one. */
    default String backendGroup() {
        return null;
    }

    /** What the response cache made of this request so far ({@link #cacheStatus(CacheStatus)}), or null: none. */
    default CacheStatus cacheStatus() {
        return null;
    }

    /**
     * Whether the request went on to the path of its site's page for an error ({@code 404 = "/404.php"}, {@code "=200
     * /404.php"}), whose answer stands for the error, not for the request's URI; a page answering with its own status
     * ({@code "= /index.php"}, a front controller's answer for the URI) or a named location's answer does not. By
     * default false.
     */
    default boolean answersAsErrorPage() {
        return false;
    }

    /** As {@link #readBody(Consumer, Runnable)}, for a responder that keeps nothing of the body between chunks. */
    default void readBody(Consumer<HttpContent> onContent) {
        readBody(onContent, () -> { });
    }

    /**
     * Lets the {@link #location}'s {@code gzip} compress the response whose head is written next (if its request,
     * status and type qualify): a backend's answer, whose body then comes as {@code HttpContent} only (or whole, as a
     * {@code FullHttpResponse}), never a {@code FileRegion} or a bare {@code ByteBuf}. By default nothing is compressed.
     */
    default void offerCompression() {
    }

    /**
     * Says that the response offered to compression is a file's, as nginx's static module answers: its Last-Modified
     * does not count for {@code gzip.proxied}'s no_last_modified (nginx's static module gives a time, not that header),
     * and where the location has {@code gzip.static}, the request was judged before the head was made, as nginx's
     * gzip filter keeps gzip_static's verdict.
     */
    default void offerCompressionOfFile() {
    }

    /**
     * The fields the answer has before a file's head is made, as nginx's request holds them at its content phase: a
     * backend's X-Accel-Redirect's (or X-Sendfile's) that go with its file (Content-Type, Cache-Control, Expires, ...),
     * a script's ({@link #keepAccelFields}) or a proxied backend's ({@link #carryHeaders}), every redirect's (the last
     * one's type), which nginx copies into the request's before each internal redirect; none for a request's own file. The file's type is
     * their Content-Type where they have one that is not empty, and its gzip judges it by that type. A location's
     * gzip.static judges the request by them, as nginx's gzip_static asks ngx_http_gzip_ok then, and its file keeps
     * that verdict.
     */
    default HttpHeaders accelFields() {
        return EmptyHttpHeaders.INSTANCE;
    }

    /**
     * Keeps {@code fields}, a script's X-Accel-Redirect's or X-Sendfile's, for {@link #accelFields}, beside those a
     * redirect before carried ({@link #carryHeaders}'), their type in place of that one's: the responder writes them
     * with the file itself, so they are not added to its answer; an error answered on the way to the file (missing,
     * refused) gets them but the type and Accept-Ranges, as nginx's error page keeps the fields it copied.
     */
    default void keepAccelFields(HttpHeaders fields) {
    }

    /**
     * As {@link #offerCompression()}, for a 304 that stands for a 200 whose body has {@code bodyLength} bytes (-1 if
     * unknown): it gets the ETag and Vary that 200 would.
     */
    default void offerCompression(long bodyLength) {
        offerCompression();
    }

    /**
     * As {@link #offerCompression(long)}, for a 304 without a Content-Type: its 200's is {@code bodyType}; or for a
     * file's 206, whose 200 has {@code bodyLength} bytes of {@code bodyType}: it gets the Vary that 200 would, and is
     * never compressed.
     */
    default void offerCompression(long bodyLength, String bodyType) {
        offerCompression(bodyLength);
    }

    /**
     * As {@link #offerCompression()}, for a whole body ({@code FullHttpResponse}) whose compressed form is kept beside
     * it (the content cache's): used where it was made at the level asked, else made and handed to {@code kept}.
     */
    default void offerCompression(CompressedForm kept) {
        offerCompression();
    }

    /**
     * Whether the location's gzip would compress {@code answer}, a script's 200 whose body has {@code length} bytes (-1
     * if unknown), for this client: then a Range gets it whole, compressed, as nginx's gzip filter leaves its range
     * filter no length. By default nothing is compressed.
     */
    default boolean compresses(HttpResponse answer, long length) {
        return false;
    }

    /**
     * The head written next is a script's 200 asked for whole (the response cache hid the client's Range): the client's
     * Range is honoured on it as it goes out, as nginx's range filter does ({@link RangeSlicer}). By default it goes
     * whole.
     */
    default void offerRanges() {
    }

    /** A whole body's gzip form, kept for the next answer of the same body. */
    interface CompressedForm {
        /** The body compressed at {@code level} (RFC 1952, whole), a buffer the caller takes; null if none is kept. */
        ByteBuf get(int level);

        /** {@code gzipped} (not taken: copied if kept) is the body compressed at {@code level}. */
        void made(int level, ByteBuf gzipped);
    }

    /**
     * Writes one response message without flushing. A response head gains the {@link #location}'s {@code expires}
     * (in place of its own {@code Cache-Control} and {@code Expires}) and {@code headers} when its status is one of
     * {@link LocationSettings#addsHeaders}, and its {@code always-headers} whatever the status, as nginx's headers
     * filter: a responder that keeps a head (the response cache) copies it before.
     */
    ChannelFuture write(Object message);

    /** Writes one response message and flushes. */
    ChannelFuture writeAndFlush(Object message);

    /** Sends what {@link #write} queued. */
    void flush();

    /** Whether the client can take more data now; when false, wait for {@link #onWritable}. */
    boolean isWritable();

    /** Runs {@code task} once the client channel becomes writable again (at once if it is). */
    void onWritable(Runnable task);

    /**
     * Ends the exchange after the last body message was written. {@code lastWrite} is the future of that
     * write; the connection is kept alive or closed according to the request and response headers.
     */
    void complete(ChannelFuture lastWrite);

    /**
     * As {@link #complete}, and the connection is closed after {@code lastWrite} whatever the headers said:
     * for a body that did not match the length its head declared, which the client can only see as a
     * truncated response, and after which the connection can't carry another.
     */
    void completeAndClose(ChannelFuture lastWrite);

    /**
     * Ends the exchange with an error. If no response head has been written yet, the client gets the
     * status {@code ErrorResponses} maps {@code cause} to; otherwise the connection is closed.
     */
    void fail(Throwable cause);

    /** Answers with a short error body for {@code status} (no head must have been written yet). */
    void sendError(HttpResponseStatus status);

    /**
     * The user whose password a location's {@code auth-basic} checked for this request (bytes one char each), or null:
     * CGI's REMOTE_USER. By default none.
     */
    default String authenticatedUser() {
        return null;
    }

    /**
     * nginx's {@code $request_id}: 32 random hex digits naming this request, the same wherever it is asked (its
     * headers, its script's params, its return), made when first asked. By default a new one each time.
     */
    default String requestId() {
        return Variables.newRequestId();
    }

    /**
     * The first match {@code regex} finds in {@code subject} within {@link BoundedMatch#PATH_STEPS} reads, for the
     * captures of a text ({@link Variables}); null where it finds none or gives up. An exchange keeps the last one it
     * found, so that an answer whose headers name several captures runs its location's regex once, not once a header.
     */
    default Matcher captures(Pattern regex, String subject) {
        return BoundedMatch.first(regex, subject, BoundedMatch.PATH_STEPS);
    }

    /**
     * The verdict of {@code location}'s secure-link ({@link io.edge.conf.SecureLink#check}) this request was given, or
     * null where none was worked out yet for that location ({@link #secureLinkVerdict(LocationSettings, String)}). By
     * default none is kept.
     */
    default String secureLinkVerdict(LocationSettings location) {
        return null;
    }

    /**
     * Keeps {@code verdict} as this request's for {@code location}'s secure-link, as nginx keeps {@code $secure_link}
     * once worked out: its check, its headers and its log line do one MD5, not one each, and cannot disagree (a link
     * expiring between them). By default forgotten.
     */
    default void secureLinkVerdict(LocationSettings location, String verdict) {
    }

    /**
     * The values of the server's maps this request has asked for so far ({@link Variables}), each worked out once:
     * made at the first asked. By default a new one each time, nothing kept.
     */
    default Map<VariableMap, String> mapValues() {
        return new IdentityHashMap<>(2);
    }

    /**
     * The request body's bytes once read whole ({@link #readBody} saw its last chunk), for nginx's {@code $content_length}
     * of a chunked body; -1 while some is still to come, or where the body was never read. By default -1.
     */
    default long bodyLengthRead() {
        return -1;
    }

    /** {@code user}'s password was checked for this request ({@link #authenticatedUser}). By default forgotten. */
    default void authenticated(String user) {
    }

    /**
     * Claims this exchange's one count by a request limit ({@code limit-req}): true the first time (it is counted from
     * now on), false after. nginx counts a request once, whatever internal redirects take it through other limited
     * locations. By default: always true.
     */
    default boolean claimLimitCount() {
        return true;
    }

    /**
     * The body bytes written so far, as they go out (compressed, where the gzip filter compresses them); -1 where not
     * counted. By default not counted.
     */
    default long bodyBytesWritten() {
        return -1;
    }

    /**
     * Claims this exchange's one count by a connection limit ({@code limit-conn}): true the first time, false after, as
     * {@link #claimLimitCount} for a request limit. By default: always true.
     */
    default boolean claimConnCount() {
        return true;
    }

    /**
     * Whether {@link #upgrade} may give this request's connection to a tunnel: a request that {@link #asksUpgrade}, the
     * last one its HTTP/1 connection read (the decoder holds what came after it, unread), on a connection that is not
     * closing. Never an HTTP/2 stream's (RFC 8441's extended CONNECT is not taken). By default not.
     */
    default boolean upgradable() {
        return false;
    }

    /**
     * Answers with {@code head}, a 101 (Switching Protocols) with its {@code Upgrade} and {@code Connection} fields, and
     * gives the client's connection to {@code tunnel}: the HTTP/1 handlers (decoder, encoder, request timeouts) leave
     * its pipeline and {@code tunnel} takes their place, where it reads the client's bytes as {@code ByteBuf}s, those the
     * client sent after its request first, and writes its own to the channel. Only where {@link #upgradable}. The
     * exchange runs on (a limit-conn place held, no access-log line) until {@link #tunnelEnded}.
     *
     * @return the write of the head
     */
    default ChannelFuture upgrade(HttpResponse head, ChannelHandler tunnel) {
        throw new UnsupportedOperationException("no upgrade here");
    }

    /**
     * Ends the exchange {@link #upgrade} gave a tunnel, after {@code lastWrite}, the tunnel's last write to the client:
     * the connection closes, the access log says 101 with the head and {@code bytesSent}, the bytes the tunnel wrote to
     * the client, as nginx's $bytes_sent counts an upgraded connection's.
     */
    default void tunnelEnded(ChannelFuture lastWrite, long bytesSent) {
        throw new UnsupportedOperationException("no upgrade here");
    }

    /**
     * Registers a task run once the exchange has ended: its answer's last write done (or failed: the connection
     * closed), it failed after its head, or its client left before. What a request holds while it is in progress (its
     * place in a {@code limit-conn}) is given back there.
     */
    void whenEnded(Runnable task);

    /**
     * Closes the client's connection without an answer, nginx's {@code return 444}: the access log says 444, and
     * requests the client sent after this one are dropped. No head must have been written. By default the exchange
     * fails instead.
     */
    default void closeWithoutAnswer() {
        fail(new IllegalStateException("no closing without an answer here"));
    }

    /** Registers a task run if the client goes away before the exchange completed. */
    void onClientGone(Runnable task);

    /**
     * The client's end of sending (a FIN, which can't be told from a close until a write fails) ends this exchange as
     * a client gone, as nginx ends a proxied request then ({@code fastcgi_ignore_client_abort off}): for an answer
     * that holds a backend or a place in its queue. Without it, what the client asked before it stopped sending is
     * answered, and the connection closes after it. {@code false} undoes it, for an answer that stopped holding the
     * backend (a file handed to the static path by X-Sendfile). Asked after the FIN came (while the exchange looked
     * its script up, or spooled its body), it ends the exchange now: its {@link #onClientGone} tasks have run when
     * this returns, and {@link #isEnded} says so.
     */
    default void endOnClientClose(boolean ends) {
    }

    /**
     * Whether the rest of the answer's body is no longer wanted: another answer went in its place (the image filter's
     * 415 for a body over its buffer, as nginx's) and what still comes is dropped. A responder that reads the body
     * itself (a file) may end it now with its last part, read no further, and the connection goes on to the next
     * request at once. By default false.
     */
    default boolean bodyDropped() {
        return false;
    }

    /**
     * Whether the exchange has ended: completed, failed (a body over the limit, a timeout) or left by its client
     * (the {@link #onClientGone} tasks have run). A response head can no longer be written. A responder that
     * resumes after waiting (an open, a read) checks it first and gives back what it was handed.
     */
    boolean isEnded();
}
