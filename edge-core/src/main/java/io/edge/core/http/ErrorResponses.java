package io.edge.core.http;

import io.edge.aio.file.DirectMemoryExhaustedException;
import io.edge.aio.file.EngineClosedException;
import io.edge.aio.file.FileDescriptorsExhaustedException;
import io.edge.aio.file.ReadQueueFullException;
import io.edge.conf.ErrorPage;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.conf.VariableText;
import io.edge.core.proxy.ProxyProtocolException;
import io.edge.core.route.Router;
import io.edge.core.tls.ClientCertificates;
import io.edge.core.tls.ClientVerification;
import io.edge.fastcgi.BackendBusyException;
import io.edge.fastcgi.BackendTimeoutException;
import io.edge.fastcgi.BackendUnavailableException;
import io.edge.fastcgi.FcgiProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.unix.Errors;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * The one place where a failure becomes an HTTP status, and where error bodies are made. Error bodies are
 * short and generic: never a stack trace, an exception message or a file system path.
 *
 * <p>Backend busy (queue full, queue timeout, FastCGI OVERLOADED), a full file-read queue, descriptor
 * exhaustion and a read buffer the direct memory limit has no room for are 503 with {@code Retry-After}; a
 * backend that answered wrongly or not at all is 502; a read or connect timeout is 504.
 */
public final class ErrorResponses {

    /**
     * Seconds a client is told to wait in {@code Retry-After} of a 503 whose cause names none (descriptors, direct
     * memory, the read queue); a FastCGI queue's says its group's {@code queue.retry-after} ({@link #retryAfterOf}).
     */
    public static final int RETRY_AFTER_SECONDS = 1;

    /** What a file is answered to: the {@code Allow} of a static location's 405s. */
    public static final String READ_METHODS = "GET, HEAD";
    private static final String SCRIPT_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";

    /**
     * nginx's 495: a client certificate that failed its check, answered 400 "The SSL certificate error" (a site's
     * error-pages 495 names the page, as nginx's error_page 495).
     */
    public static final HttpResponseStatus CERTIFICATE_ERROR = new HttpResponseStatus(495, "SSL Certificate Error");
    /**
     * nginx's 496: no client certificate where ssl_verify_client is on, answered 400 "No required SSL certificate was
     * sent" (error-pages 496 names the page).
     */
    public static final HttpResponseStatus NO_CERTIFICATE = new HttpResponseStatus(496, "SSL Certificate Required");

    private ErrorResponses() {
    }

    /**
     * The refusal of a request its site may not serve on its connection for want of a good client certificate, as
     * nginx's: 421 for a Host other than the SNI name, 496 and 495 (answered 400), each with nginx's reason for the
     * log.
     */
    public static HttpStatusException refused(ClientCertificates.Refusal refusal, ClientVerification verification) {
        return switch (refusal) {
            case MISDIRECTED -> new HttpStatusException(HttpResponseStatus.MISDIRECTED_REQUEST, "client attempted to"
                    + " request the server name different from the one that was negotiated");
            case NO_CERTIFICATE -> new HttpStatusException(NO_CERTIFICATE, "client sent no required SSL certificate");
            // an OCSP answer's (an error below 0) without a code, as nginx logs it
            case CERTIFICATE_ERROR -> new HttpStatusException(CERTIFICATE_ERROR, "client SSL certificate verify"
                    + " error: " + (verification.error() < 0 ? verification.reason()
                    : "(" + verification.error() + ":" + verification.reason() + ")"));
        };
    }

    /**
     * Whether {@code failure} is the client's connection ending under a write (reset, broken pipe, closed): the
     * client's doing, as common as clients that stop a download, and nothing for an operator to act on (nginx logs it
     * at info as "client prematurely closed connection"). A file that fails to read under {@code sendfile} is not.
     */
    public static boolean isClientGone(Throwable failure) {
        if (failure instanceof ClosedChannelException) {
            return true;
        }
        if (failure instanceof Errors.NativeIoException e) {
            int err = e.expectedErr();
            return err == Errors.ERRNO_EPIPE_NEGATIVE || err == Errors.ERRNO_ECONNRESET_NEGATIVE;
        }
        return false;
    }

    /**
     * The seconds of the {@code Retry-After} of {@code failure}'s 503: its backend group's (0: none), else
     * {@link #RETRY_AFTER_SECONDS}.
     */
    public static int retryAfterOf(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof BackendBusyException busy && busy.retryAfterSeconds() >= 0) {
                return busy.retryAfterSeconds();
            }
        }
        return RETRY_AFTER_SECONDS;
    }

    /** The status for a failure; causes are unwrapped through {@link DecoderException} and the like. */
    public static HttpResponseStatus statusFor(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof HttpStatusException e) {
                return e.status();
            }
            if (t instanceof BackendBusyException || t instanceof FileDescriptorsExhaustedException
                    || t instanceof DirectMemoryExhaustedException || t instanceof ReadQueueFullException
                    || t instanceof OutOfMemoryError) { // memory: edge's own, for now, not the backend's doing
                return HttpResponseStatus.SERVICE_UNAVAILABLE;
            }
            if (t instanceof BackendTimeoutException) {
                return HttpResponseStatus.GATEWAY_TIMEOUT;
            }
            if (t instanceof BackendUnavailableException && t.getCause() instanceof ConnectTimeoutException) {
                return HttpResponseStatus.GATEWAY_TIMEOUT; // as nginx: "upstream timed out ... while connecting"
            }
            if (t instanceof FcgiProtocolException || t instanceof ProxyProtocolException
                    || t instanceof BackendUnavailableException) {
                return HttpResponseStatus.BAD_GATEWAY;
            }
            if (t instanceof TooLongHttpLineException) {
                return HttpResponseStatus.REQUEST_URI_TOO_LONG;
            }
            if (t instanceof TooLongHttpHeaderException) {
                return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
            }
            if (t instanceof TooLongFrameException) {
                return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
            }
            if (t instanceof NoSuchFileException || t instanceof FileNotFoundException) {
                return HttpResponseStatus.NOT_FOUND;
            }
            if (t instanceof AccessDeniedException) {
                return HttpResponseStatus.FORBIDDEN;
            }
        }
        return failure instanceof DecoderException ? HttpResponseStatus.BAD_REQUEST : HttpResponseStatus.INTERNAL_SERVER_ERROR;
    }

    /**
     * The status for a request the HTTP decoder could not parse: 414 and 431 for the size limits, 501 for a transfer
     * coding edge does not decode ({@link StrictHttpServerCodec}), else 400 whatever the decoder's exception was.
     */
    public static HttpResponseStatus statusForUnparsable(Throwable decoderFailure) {
        HttpResponseStatus status = statusFor(decoderFailure);
        int code = status.code();
        return code == 414 || code == 431 || code == 413 || code == 408 || code == 501 ? status
                : HttpResponseStatus.BAD_REQUEST;
    }

    /**
     * The status for a request body the HTTP decoder could not read: 413 for one that declares more than the limit
     * allows (a chunk size), else 400 whatever the decoder's exception was (a chunk-size line too long included).
     */
    public static HttpResponseStatus statusForUnreadableBody(Throwable decoderFailure) {
        return statusFor(decoderFailure).code() == 413 ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
                : HttpResponseStatus.BAD_REQUEST;
    }

    /**
     * The {@code Allow} of a 405 in {@code location}: what it answers. Files and the status page take GET and HEAD; a
     * FastCGI location passes a script every method but TRACE and CONNECT (refused everywhere, see
     * {@link HttpConnectionHandler}), and a proxied one its backend, so they list those of RFC 9110 and PATCH, and
     * PURGE where the response cache takes it. Any other method ({@code FOO}, {@code M-SEARCH}) is passed to the script
     * too, as nginx passes any method to FastCGI, but not listed: no list of them could be complete, and the script is what answers them. Empty where no
     * location takes the path (every method is 404 there): RFC 9110 10.2.1's "allows no methods".
     */
    public static String allowedMethods(LocationSettings location) {
        if (location == null) {
            return "";
        }
        return switch (location.handler()) {
            case STATIC, STATUS, EMPTY_GIF -> READ_METHODS;
            case FASTCGI, PROXY -> location.cache() ? SCRIPT_METHODS + ", PURGE" : SCRIPT_METHODS;
            case RETURN, REWRITE -> SCRIPT_METHODS; // answered whatever the method
        };
    }

    /**
     * The always-headers of an answer that sends {@code site}'s error {@code page}: those of the location the page's
     * URI routes to, as nginx's error_page is an internal redirect there (nginx 1.22 sends that location's add_header
     * ... always, not those of the location that failed, nor, for a request it could not read, only the server's);
     * {@code unrouted}, location-defaults', where no location takes the URI.
     */
    static Map<String, VariableText> pageAlwaysHeaders(SiteSettings site, ErrorPage page,
            Map<String, VariableText> unrouted) {
        LocationSettings location = pageLocation(site, page);
        return location == null ? unrouted : location.alwaysHeaders();
    }

    /**
     * The location {@code page}'s URI routes to, whose always-headers go with it (their captures that location regex's
     * of the URI, as after nginx's internal redirect); null for none.
     */
    static LocationSettings pageLocation(SiteSettings site, ErrorPage page) {
        try {
            return Router.location(site, page.uri());
        } catch (HttpStatusException gaveUp) {
            return null; // a location's regex gave up on the page's own path: it takes none
        }
    }

    /**
     * Adds {@code kept}, a script's X-Accel-Redirect's fields ({@link Exchange#keepAccelFields}), to {@code headers}, an
     * answer edge makes itself on the way to the script's file (an error: the file missing, refused; a directory's 301
     * to its slash), as nginx's: it copied them into the request's fields before it looked for the file, and its special
     * response keeps them but Accept-Ranges, with its own type. A field the answer has already stays as it is.
     */
    public static void addKeptWithFile(HttpHeaders kept, HttpHeaders headers) {
        for (String name : kept.names()) {
            if (!HttpHeaderNames.CONTENT_TYPE.contentEqualsIgnoreCase(name)
                    && !HttpHeaderNames.ACCEPT_RANGES.contentEqualsIgnoreCase(name) && !headers.contains(name)) {
                headers.add(name, kept.getAll(name));
            }
        }
    }

    /**
     * Answers {@code exchange} with a redirect edge makes, {@code status} to {@code location} (a return's, a rewrite's,
     * a directory's to its slash): the site's page for it where a script or proxy location takes the page's path
     * ({@code 301 = "/moved.php"}), run with the status and {@code Location} kept, as nginx 1.22's {@code error_page
     * 301 /moved.php} runs it (measured: the script saw a GET, a HEAD kept, REQUEST_URI the request's); else edge's
     * own page or the site's file, with {@code Location} and {@code kept}, a script's X-Accel-Redirect's fields
     * ({@link #addKeptWithFile}).
     */
    public static void redirect(Exchange exchange, HttpResponseStatus status, String location, HttpHeaders kept) {
        if (exchange.toNamedErrorPage(status, new DefaultHttpHeaders().set(HttpHeaderNames.LOCATION, location))) {
            return;
        }
        // a page saying so, as nginx's (its layout edge's, as its other pages'; a HEAD's without its body)
        FullHttpResponse response = response(exchange, status);
        addKeptWithFile(kept, response.headers());
        response.headers().set(HttpHeaderNames.LOCATION, location);
        exchange.complete(exchange.writeAndFlush(response)); // the write owns the body
    }

    /**
     * As {@link #response(HttpResponseStatus, boolean, ErrorPage, int, boolean)}, for {@code exchange}: whether it is a
     * HEAD, its site's page for {@code status} if there is one, and its server's {@code server-tokens}.
     */
    public static FullHttpResponse response(Exchange exchange, HttpResponseStatus status) {
        return response(exchange, status, RETRY_AFTER_SECONDS);
    }

    /** As {@link #response(Exchange, HttpResponseStatus)}; a 503 says to retry after {@code retryAfterSeconds}. */
    public static FullHttpResponse response(Exchange exchange, HttpResponseStatus status, int retryAfterSeconds) {
        return response(status, exchange.isHead(), exchange.errorPage(status), retryAfterSeconds,
                exchange.serverTokens());
    }

    /** As {@link #response(HttpResponseStatus, boolean, ErrorPage, int, boolean)}, a 503's Retry-After the default. */
    public static FullHttpResponse response(HttpResponseStatus status, boolean head, ErrorPage page,
            boolean serverTokens) {
        return response(status, head, page, RETRY_AFTER_SECONDS, serverTokens);
    }

    /**
     * A complete error response for {@code status}: the site's {@code page} as last read unless null (its file missing:
     * edge's 404, as nginx's error_page to a missing file; refused: edge's 403, as nginx's to a file it may not open;
     * one not to be sent: edge's own for the status), else edge's built-in one,
     * signed as the Server field is, "edge/" and the version with {@code serverTokens}, "edge" alone without (nginx's
     * footer, {@code <hr><center>nginx/1.22.1</center>}, follows server_tokens so). {@code 503} carries
     * {@code Retry-After} for {@code retryAfterSeconds} ({@link #retryAfterOf}), none at 0; none says
     * {@code Cache-Control}, as nginx's own pages say none (a CDN in front keeps a 404 for its negative-caching time;
     * RFC 9111 4.2.2 lets no cache keep a 500, 502, 503 or 504 that says nothing of it); {@code 405}
     * callers add {@code Allow} themselves ({@link #allowedMethods}); a status that {@linkplain #closesConnection
     * closes the connection} carries {@code Connection: close}. {@code head} leaves the body out but keeps its length.
     */
    public static FullHttpResponse response(HttpResponseStatus status, boolean head, ErrorPage page,
            int retryAfterSeconds, boolean serverTokens) {
        // the page as last read, taken once: a refresh meanwhile changes neither its length nor its bytes under us
        ErrorPage.Content content = page == null ? null : page.content();
        HttpResponseStatus pageFailed = content == null ? null
                : content.state() == ErrorPage.State.MISSING ? HttpResponseStatus.NOT_FOUND
                : content.state() == ErrorPage.State.REFUSED ? HttpResponseStatus.FORBIDDEN : null;
        if (pageFailed != null) {
            // a page whose file is not there (or refused): nginx's error_page redirect to it finds none (may not open
            // it), and its 404 (403) is not paged again (recursive_error_pages off), so its own goes (a redirect's
            // with the Location the caller sets; nginx 1.22's 503 to a missing page is a 404 without a Retry-After),
            // the connection closed all the same after an error that closes it (a 500's, a 413's: nginx's keepalive
            // was off before the redirect)
            FullHttpResponse instead = response(pageFailed, head, null, 0, serverTokens);
            if (closesConnection(status)) {
                instead.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            return instead;
        }
        ByteBuf body;
        int length;
        // nginx's 495 and 496 go as 400, their page saying why
        String why = status.code() == CERTIFICATE_ERROR.code() ? "The SSL certificate error"
                : status.code() == NO_CERTIFICATE.code() ? "No required SSL certificate was sent" : null;
        HttpResponseStatus sent = why != null ? HttpResponseStatus.BAD_REQUEST : status;
        boolean paged = content != null && content.state() == ErrorPage.State.READ; // else unusable: edge's own
        if (paged) {
            length = content.length();
            body = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(content.body());
        } else {
            String footer = "<hr><p>" + ServerField.value(serverTokens) + "</p></body></html>\n";
            byte[] builtIn = (why != null ? "<html><head><title>400 " + why + "</title></head><body><h1>" + sent
                    + "</h1><p>" + why + "</p>" + footer
                    : "<html><head><title>" + status + "</title></head><body><h1>" + status + "</h1>" + footer)
                    .getBytes(StandardCharsets.US_ASCII);
            length = builtIn.length;
            // on the heap, as a page's: a direct buffer may be what ran out (a 503 for a read refused for want of
            // one); asked for here, the JDK slept half a second on the event loop before it failed, and its Error
            // left the exchange unanswered, its connection open for good
            body = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(builtIn);
        }
        FullHttpResponse response = new Page(sent, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, paged ? page.contentType() : "text/html; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        if (status.code() == HttpResponseStatus.SERVICE_UNAVAILABLE.code() && retryAfterSeconds > 0) {
            response.headers().setInt(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds);
        }
        if (closesConnection(status)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }

    /**
     * Whether {@code response}, made by {@link #response} for {@code status} and {@code page}, sends the site's page:
     * not edge's own (no page, one too large), nor the 404 (403) of a page that is missing (refused).
     */
    public static boolean sendsSitePage(HttpResponse response, HttpResponseStatus status, ErrorPage page) {
        return page != null && response.status().code() == status.code()
                && page.content().state() == ErrorPage.State.READ;
    }

    /**
     * Whether {@code response} is one of edge's own pages ({@link #response}: its built-in one or a site's error page),
     * which goes through its location's gzip as nginx's special responses go through its gzip filter.
     */
    static boolean isPage(HttpResponse response) {
        return response instanceof Page;
    }

    /**
     * An answer {@link #response} made, told from a responder's by its class. Its field names are not judged as
     * tokens: a 416's page carries the fields of the answer it refused ({@link RangeSlicer#carryFields}), and a proxied
     * backend's may hold any visible ASCII ({@code Fo(o}, as nginx 1.22 passes it), which Netty's default refused with
     * an exception in the middle of the answer (a cache hit's 500, a miss's 502, a revalidated entry's client left
     * without an answer).
     */
    private static final class Page extends DefaultFullHttpResponse {

        private static final HttpHeadersFactory FIELDS = DefaultHttpHeadersFactory.headersFactory()
                .withNameValidation(false);

        Page(HttpResponseStatus status, ByteBuf body) {
            super(HttpVersion.HTTP_1_1, status, body, FIELDS.newHeaders(), FIELDS.newHeaders());
        }
    }

    /**
     * Whether a failure answered {@code status} is edge's or its backends' doing, to be logged as a warning: a 5xx, but
     * for 501 and 505, which refuse what the client asked for (a transfer coding edge does not decode, another protocol
     * version, as an HTTP/2 client's {@code PRI *} preface) and are the client's, as nginx logs those at info level.
     */
    public static boolean isServerFault(HttpResponseStatus status) {
        int code = status.code();
        return code >= 500 && code != 501 && code != 505;
    }

    /**
     * Whether a 500 for {@code failure} is logged with its stack trace, which only helps find an unforeseen fault: not
     * for a file found shorter than it was opened ({@link EOFException}: truncated while it was read or sent), whose
     * message says all there is, as nginx's one "was truncated" line does; nor for a file engine closed under the
     * request ({@link EngineClosedException}: a reload replaced it and its drain timeout passed, or edge stops); nor
     * for a read not done in its time ({@link TimeoutException}, static.read-timeout: a slow disk, or direct memory
     * run out), which came by the hundred, each with the same trace.
     */
    public static boolean wantsStackTrace(Throwable failure) {
        return !(failure instanceof EOFException || failure instanceof EngineClosedException
                || failure instanceof TimeoutException || failure instanceof OutOfMemoryError);
    }

    /**
     * True for statuses after which edge closes the connection when it answers them itself ({@link #response}): the
     * request's framing may be unknown or its stream untrustworthy (400, 408, 413, 414, 431: a request edge could not
     * or would not read whole; 501: a transfer coding edge does not decode; 505: the client speaks another protocol; 500: edge's own
     * fault, its state for the connection unknown; 421, 495 and 496: a client certificate's refusals, after which nginx
     * reads nothing more of the connection). A
     * backend's answer with one of them (a PHP 400 or 500) keeps the connection, as nginx's does: edge read that
     * request whole.
     */
    public static boolean closesConnection(HttpResponseStatus status) {
        int code = status.code();
        return code == 400 || code == 408 || code == 413 || code == 414 || code == 431 || code == 500
                || code == 501 || code == 505 || code == 421 || code == 495 || code == 496;
    }
}
