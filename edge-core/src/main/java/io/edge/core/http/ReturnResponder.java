package io.edge.core.http;

import io.edge.conf.BoundedMatch;
import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.core.route.Router;
import io.edge.core.statics.Preconditions;
import io.edge.fastcgi.cgi.CgiParams;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
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
        String text = render(exchange, location, path, answer.text(), answer.redirects() ? Escape.URL : Escape.NONE);
        FullHttpResponse response;
        if (answer.redirects()) {
            response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
            response.headers().set(HttpHeaderNames.LOCATION, onThisHost(text, answer.text()))
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        } else if (!Exchange.statusHasBody(answer.status())) {
            response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        } else {
            int length = ByteBufUtil.utf8Bytes(text);
            ByteBuf body = exchange.isHead() || text.isEmpty() ? Unpooled.EMPTY_BUFFER
                    : ByteBufUtil.writeUtf8(exchange.clientChannel().alloc(), text);
            response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
            String ownType = ownType(location);
            if (ownType == null) {
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, TEXT_TYPE);
            } else if (!LocationSettings.addsHeaders(answer.status())) {
                // the exchange adds the location's headers to answers of the statuses nginx's add_header names only;
                // for others, the type the location names is set here (with those, the exchange's is the one field)
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, ownType);
            }
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

    /** The Content-Type among the location's {@code headers}, or null. */
    private static String ownType(LocationSettings location) {
        for (var header : location.headers().entrySet()) {
            if (HttpHeaderNames.CONTENT_TYPE.contentEqualsIgnoreCase(header.getKey())) {
                return header.getValue();
            }
        }
        return null;
    }

    /** How a variable's value is written into a text. */
    enum Escape {
        /** As it is: a body's text. */
        NONE,
        /**
         * For a URL: a decoded value ({@code $uri}, a capture) percent-encoded as a path is; others as {@link #LITERAL}.
         */
        URL,
        /**
         * For a query's part: as {@link #URL}, and a decoded value's {@code &}, {@code =}, {@code +}, {@code #} encoded
         * too, so a capture is one argument's value and adds none (nginx escapes a rewrite's captures in its arguments).
         */
        QUERY,
        /** For a URL, a part that is one already (the configuration's, or sent): blanks, controls, non-ASCII encoded. */
        LITERAL
    }

    /** {@code text} for this request, its variables' values written as {@code escape} says. */
    static String render(Exchange exchange, List<Return.Part> text, Escape escape) {
        return render(exchange, exchange.location(), exchange.path(), text, escape);
    }

    /** As above, with the captures {@code location}'s regex (none without one) makes of {@code path}. */
    private static String render(Exchange exchange, LocationSettings location, String path, List<Return.Part> text,
            Escape escape) {
        Matcher captures = null;
        StringBuilder out = new StringBuilder(64);
        for (Return.Part part : text) {
            if (part.literal() != null) {
                // the configuration's text: in a URL, its non-ASCII characters as their UTF-8 bytes encoded
                appendText(out, part.literal(), escape == Escape.NONE ? Escape.NONE : Escape.LITERAL);
                continue;
            }
            String name = part.variable();
            if (part.isCapture()) {
                if (captures == null && location.regex() != null) {
                    // null where not routed by this regex (an internal redirect's path): no captures. It does not
                    // give up where it routed the path: the same search, in a budget of its own
                    captures = BoundedMatch.first(location.regex(), path, BoundedMatch.PATH_STEPS);
                }
                String value = captures == null ? null : part.captured(captures);
                appendText(out, value == null ? "" : value, escape);
                continue;
            }
            String value = value(exchange, name);
            if (name.equals("uri") || name.equals("document_uri")) {
                appendText(out, value, escape);
            } else {
                // As sent: Netty reads a head's bytes one char each (ISO-8859-1), which a UTF-8 client's "é" is two of
                appendBytes(out, value.getBytes(StandardCharsets.ISO_8859_1), escape == Escape.NONE ? Escape.NONE
                        : Escape.LITERAL);
            }
        }
        return out.toString();
    }

    /** Appends {@code text} (characters: a decoded path's, a capture of it, the configuration's) as {@code escape} says. */
    private static void appendText(StringBuilder out, String text, Escape escape) {
        if (escape == Escape.NONE) {
            out.append(text);
        } else {
            // a path's byte that was not UTF-8 (kept by its decoding as a lone U+DC80-U+DCFF) goes out as that byte
            appendBytes(out, CgiParams.utf8Bytes(text).getBytes(StandardCharsets.ISO_8859_1), escape);
        }
    }

    /**
     * Appends {@code bytes}: as UTF-8 text ({@link Escape#NONE}); else percent-encoded where {@code escape} says: a
     * decoded value's ({@link Escape#URL}, {@link Escape#QUERY}) all but a path's characters, others' ({@link
     * Escape#LITERAL}: the configuration's, or sent as a URL's) blanks, controls and non-ASCII only.
     */
    private static void appendBytes(StringBuilder out, byte[] bytes, Escape escape) {
        if (escape == Escape.NONE) {
            out.append(new String(bytes, StandardCharsets.UTF_8));
            return;
        }
        RequestTarget.percentEncode(out, bytes, switch (escape) {
            case LITERAL -> c -> c > ' ' && c < 0x7f;
            case URL -> RequestTarget::keptInPath;
            // a path's but the three that would make one argument's value several
            default -> c -> RequestTarget.keptInPath(c) && "&+=".indexOf(c) < 0;
        });
    }

    /** The lines of the field {@code header} as one value: joined by ", ", a Cookie's by "; ". */
    static String joined(String header, List<String> values) {
        return values.size() == 1 ? values.get(0)
                : String.join(header.equalsIgnoreCase("cookie") ? "; " : ", ", values);
    }

    /**
     * The value of the request variable {@code name} (see {@link Return#VARIABLES}); "" where the request has none. A
     * header sent in several lines is all of them, as nginx's (1.23 on; 1.22 for X-Forwarded-For and Cookie): joined
     * by ", " (Cookie by "; "). The first alone logged a client's forged X-Forwarded-For and never the line HAProxy's
     * option forwardfor adds after it.
     */
    static String value(Exchange exchange, String name) {
        if (name.startsWith("http_")) {
            String header = name.substring(5).replace('_', '-');
            List<String> values = exchange.request().headers().getAll(header);
            return values.isEmpty() ? "" : joined(header, values);
        }
        if (name.startsWith("arg_")) {
            return RequestTarget.argument(exchange.query(), name.substring(4));
        }
        return switch (name) {
            case "scheme" -> exchange.https() ? "https" : "http";
            case "host" -> host(exchange);
            case "server_name" -> serverName(exchange);
            case "server_port" -> Integer.toString(exchange.localAddress().getPort());
            case "server_addr" -> NetUtil.toAddressString(exchange.localAddress().getAddress());
            case "request_uri" -> exchange.request().uri();
            case "uri", "document_uri" -> exchange.path();
            case "args", "query_string" -> exchange.query();
            case "is_args" -> exchange.query().isEmpty() ? "" : "?";
            case "request_method" -> exchange.request().method().name();
            case "remote_addr" -> NetUtil.toAddressString(exchange.remoteAddress().getAddress());
            default -> throw new IllegalArgumentException("no variable $" + name); // the configuration checked them
        };
    }

    /**
     * nginx's {@code $host}: the Host's name, lower case, without port; else the site's name; else the address, as a
     * Host carries it: an IPv6 one in brackets, or "http://$host/" would be no URL.
     */
    private static String host(Exchange exchange) {
        String header = exchange.request().headers().get(HttpHeaderNames.HOST);
        if (header != null && !header.isEmpty()) {
            return Router.hostName(header);
        }
        String name = serverName(exchange);
        if (!name.isEmpty()) {
            return name;
        }
        InetAddress local = exchange.localAddress().getAddress();
        String address = NetUtil.toAddressString(local);
        return local instanceof Inet6Address ? "[" + address + "]" : address;
    }

    /** nginx's {@code $server_name}: the site's ({@link io.edge.conf.SiteSettings#serverName}), "" without a site. */
    private static String serverName(Exchange exchange) {
        return exchange.site() == null ? "" : exchange.site().serverName();
    }
}
