package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.core.route.Router;
import io.edge.core.statics.Preconditions;
import io.edge.fastcgi.cgi.CgiParams;
import io.edge.fastcgi.regex.BoundedMatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A location's {@code return} ({@link Return}), nginx's: every request is answered with the configured status at
 * once, a redirect with its URL as {@code Location}, another status with its text as a {@code text/plain} body, a
 * status from 400 up without one as edge's own errors (the site's page), 444 by closing the connection. The request's
 * body is left unread (the connection drops it). Stateless: one per configuration serves every location.
 */
public final class ReturnResponder implements Responder {

    static final String TEXT_TYPE = "text/plain; charset=utf-8";

    @Override
    public void respond(Exchange exchange) {
        answer(exchange, exchange.location(), exchange.path(), exchange.location().returns());
    }

    /**
     * Answers {@code exchange} with {@code answer}, {@code location}'s (a return, a referers check's invalid answer):
     * with the captures its regex makes of {@code path} (the URI that led there: the request's, or a script's
     * X-Accel-Redirect's) and its Content-Type, whichever location the exchange routed to.
     */
    public static void answer(Exchange exchange, LocationSettings location, String path, Return answer) {
        answer(exchange, location, location.regex(), path, answer);
    }

    /** As above, with the captures {@code regex} (none where null) makes of {@code subject}. */
    private static void answer(Exchange exchange, LocationSettings location, Pattern regex, String subject,
            Return answer) {
        answer(exchange, location, Captures.of(exchange, regex, subject), answer);
    }

    /** As above, with {@code captures}: a rewrites entry's, whose $1 is the last regex's that ran. */
    static void answer(Exchange exchange, LocationSettings location, Captures captures, Return answer) {
        if (answer.status() == Return.CLOSE) {
            exchange.closeWithoutAnswer();
            return;
        }
        HttpResponseStatus status = HttpResponseStatus.valueOf(answer.status());
        if (answer.text().isEmpty() && answer.status() >= 400) {
            exchange.sendError(status);
            return;
        }
        if (answer.status() < 300 && preconditionsAnswered(exchange)) {
            return;
        }
        String text = Variables.render(exchange, captures, answer.text(),
                answer.redirects() ? Variables.Escape.URL : Variables.Escape.NONE);
        if (answer.redirects()) {
            exchange.answerWithOwnStatus(); // nginx's special response: a 302, whatever error page led here
            // a site's rewrites' (no location yet) write it as location-defaults say, nginx's server level
            LocationSettings.Redirects redirects = location != null ? location.redirects()
                    : exchange.site() != null ? exchange.site().redirects() : LocationSettings.Redirects.DEFAULT;
            ErrorResponses.redirect(exchange, status, RedirectLocation.of(exchange, redirects,
                    onThisHost(text, answer.text())), EmptyHttpHeaders.INSTANCE);
            return;
        }
        FullHttpResponse response;
        if (!Exchange.statusHasBody(answer.status())) {
            response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        } else {
            int length = ByteBufUtil.utf8Bytes(text);
            ByteBuf body = exchange.isHead() || text.isEmpty() ? Unpooled.EMPTY_BUFFER
                    : ByteBufUtil.writeUtf8(exchange.clientChannel().alloc(), text);
            response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
            String ownType = location == null ? null : ownType(exchange, location);
            if (ownType == null) {
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, TEXT_TYPE);
            } else if (!LocationSettings.addsHeaders(answer.status())) {
                // the exchange adds the location's headers to answers of the statuses nginx's add_header names only;
                // for others, the type the location names is set here (with those, the exchange's is the one field)
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, ownType);
            }
            // through the location's gzip, as nginx's return sends its text through its gzip filter (its type and
            // length judged as any answer's)
            exchange.offerCompression();
        }
        exchange.complete(exchange.writeAndFlush(response)); // the write owns the body
    }

    /**
     * Answers {@code exchange}, whose answer would be a 2xx (RFC 9110 13.2.1), with 304 or 412 where its preconditions
     * call for it, as {@link Preconditions#evaluateWithoutValidators} judges them, and says whether it did. Not for
     * OPTIONS, CONNECT or TRACE, whose preconditions 13.2.1 has ignored (a CORS preflight's 204 stays one).
     */
    private static boolean preconditionsAnswered(Exchange exchange) {
        HttpMethod method = exchange.request().method();
        if (HttpMethod.OPTIONS.equals(method) || HttpMethod.CONNECT.equals(method) || HttpMethod.TRACE.equals(method)) {
            return false;
        }
        return Preconditions.answeredWithoutValidators(exchange,
                HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method), () -> { });
    }

    /**
     * {@code url}, a redirect's URL made of {@code text}, with the slashes it starts with made one where it is meant as
     * a path and came out as another host: {@code "301 /$1"} with a capture of {@code /evil.com/x} (the path
     * {@code /legacy/evil.com/x}) made {@code //evil.com/x}, which a browser follows to evil.com (an open redirect); a
     * backslash after the first slash is read as one by browsers too. nginx makes such a URL absolute on its own host
     * ({@code http://host//evil.com/x}). A URL configured to start with {@code //} (another host on purpose) is left as
     * written.
     */
    static String onThisHost(String url, List<Return.Part> text) {
        if (url.length() < 2 || url.charAt(0) != '/' || url.charAt(1) != '/' && url.charAt(1) != '\\') {
            return url;
        }
        String first = text.isEmpty() ? null : text.get(0).literal();
        if (first != null && first.startsWith("//")) {
            return url;
        }
        int at = 1;
        while (at < url.length() && (url.charAt(at) == '/' || url.charAt(at) == '\\')) {
            at++;
        }
        return "/" + url.substring(at);
    }

    /** The Content-Type among the location's {@code headers}, for {@code exchange}, or null. */
    private static String ownType(Exchange exchange, LocationSettings location) {
        for (var header : location.headers().entrySet()) {
            if (HttpHeaderNames.CONTENT_TYPE.contentEqualsIgnoreCase(header.getKey())) {
                return Variables.field(exchange, header.getValue());
            }
        }
        return null;
    }
}
