package io.edge.core.proxy;

import io.edge.conf.LocationSettings;
import io.edge.conf.VariableText;
import io.edge.core.http.Exchange;
import io.edge.core.http.Variables;
import io.edge.fastcgi.cgi.AnswerFields;
import io.edge.fastcgi.cgi.CgiParams;
import io.edge.fastcgi.regex.BoundedMatch;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * The header rules of nginx's proxy module, pure functions of a head's headers: which hop-by-hop headers stay on their
 * hop (RFC 9110 7.6.1: Connection and the names it lists, Keep-Alive, TE, Trailer, Upgrade, Transfer-Encoding, and the
 * Proxy-* ones), which of a backend's are hidden from the client (proxy_hide_header's defaults), and the request
 * headers a location sets (proxy_set_header).
 */
final class ProxyHeaders {

    /** Hop-by-hop in either direction; Content-Length too, as the body is framed anew on each hop. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "te", "trailer", "upgrade",
            "transfer-encoding", "content-length");

    /**
     * Hidden from the client by nginx's proxy_hide_header defaults: edge sets its own Date and Server, and the five
     * X-Accel fields nginx reads are for the server (any other X-Accel-* goes on, as nginx 1.22's does).
     */
    private static final Set<String> HIDDEN = Set.of("date", "server", "x-pad", "x-accel-expires", "x-accel-redirect",
            "x-accel-limit-rate", "x-accel-buffering", "x-accel-charset");

    /** A backend's redirect after a delay, whose {@code url=} proxy_redirect rewrites as nginx's does. */
    private static final CharSequence REFRESH = "Refresh";
    /** The headers proxy_redirect rewrites. */
    private static final List<CharSequence> REDIRECTING = List.of(HttpHeaderNames.LOCATION, REFRESH);

    /**
     * The fields of a backend's answer, and of the head the client gets from it ({@link AnswerFields}): what else a
     * name may hold {@link ChunkedLineEnds} has judged before (whitespace and control characters refused, a line whose
     * name has a byte past ASCII left out): a name this refuses fails the decoder, the answer a 502, never an
     * exception on the client's side.
     */
    static final HttpHeadersFactory ANSWER_FIELDS = AnswerFields.FACTORY;

    private ProxyHeaders() {
    }

    /**
     * The client's request headers the backend gets: all but the hop-by-hop ones, Host (set by the location's
     * proxy-headers), Expect (edge answered the client's 100-continue itself and sends the body unasked) and those
     * whose names nginx takes for invalid ({@code ignore_invalid_headers}, {@code underscores_in_headers off}): a
     * backend that reads headers as CGI names (WSGI, Rack) would take {@code X_Real_IP} for the X-Real-IP set here.
     */
    static void copyRequest(HttpHeaders from, HttpHeaders to) {
        List<String> named = connectionTokens(from);
        from.forEach(header -> {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!isHopByHop(name, named) && !name.equals("host") && !name.equals("expect")
                    && CgiParams.isValidHeaderName(name, false)) {
                to.add(header.getKey(), header.getValue());
            }
        });
    }

    /** The location's proxy-headers for this request, each replacing the client's; one that comes out "" is left out. */
    static void setConfigured(Exchange exchange, LocationSettings.Proxy proxy, HttpHeaders to) {
        for (Map.Entry<String, VariableText> header : proxy.headers().entrySet()) {
            String value = Variables.field(exchange, header.getValue());
            to.remove(header.getKey());
            if (!value.isEmpty()) {
                to.set(header.getKey(), value);
            }
        }
    }

    /**
     * The backend's response headers the client gets: not hop-by-hop, not hidden (Date, Server, X-Pad, X-Accel-Expires,
     * -Redirect, -Limit-Rate, -Buffering, -Charset) but where {@code passed} names them (the location's
     * proxy-pass-headers, lower case: nginx's proxy_pass_header).
     */
    static void copyResponse(HttpHeaders from, HttpHeaders to, Set<String> passed) {
        List<String> named = connectionTokens(from);
        from.forEach(header -> {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!isHopByHop(name, named) && (!HIDDEN.contains(name) || passed.contains(name))) {
                to.add(header.getKey(), header.getValue());
            }
        });
    }

    /**
     * The backend's redirects rewritten for the client, nginx's {@code proxy_redirect}: each Location header, and the URL
     * after {@code url=} in each Refresh header, by the location's first pair whose {@code from} it starts with (or
     * whose regex finds a match in it); a URL no pair takes stays as it is.
     */
    static void rewriteRedirects(Exchange exchange, LocationSettings.Proxy proxy, HttpHeaders headers) {
        if (proxy.redirects().isEmpty()) {
            return;
        }
        for (CharSequence name : REDIRECTING) {
            if (!headers.contains(name)) {
                continue; // most answers: nothing asked of them
            }
            List<String> values = headers.getAll(name);
            List<String> rewritten = new ArrayList<>(values.size());
            boolean changed = false;
            for (String value : values) {
                int url = name == REFRESH ? refreshUrl(value) : 0;
                String result = url < 0 ? value : redirected(exchange, proxy.redirects(), value, url);
                changed |= !result.equals(value);
                rewritten.add(result);
            }
            if (changed) {
                // set only then: a header no pair took keeps its name as the backend wrote it, and its place
                headers.set(name, rewritten);
            }
        }
    }

    /** Where the URL of a Refresh value ({@code 5; url=/next}) starts, after nginx's {@code url=} in any case; -1: none. */
    private static int refreshUrl(String refresh) {
        int url = refresh.toLowerCase(Locale.ROOT).indexOf("url=");
        return url < 0 ? -1 : url + "url=".length();
    }

    /**
     * {@code value} with the URL at {@code start} rewritten by the first of {@code redirects} whose from it starts with,
     * or whose regex finds a match in it.
     */
    static String redirected(Exchange exchange, List<LocationSettings.Proxy.Redirect> redirects, String value,
            int start) {
        for (LocationSettings.Proxy.Redirect redirect : redirects) {
            if (redirect.regex() != null) {
                // as nginx's: the whole URL replaced, the regex run within a budget (the backend wrote the URL)
                Matcher match = BoundedMatch.first(redirect.regex(), value.substring(start), BoundedMatch.STEPS);
                if (match != null) {
                    return value.substring(0, start) + Variables.field(exchange, match, redirect.to());
                }
                continue;
            }
            String from = Variables.field(exchange, redirect.from());
            if (!from.isEmpty() && value.startsWith(from, start)) {
                return value.substring(0, start) + Variables.field(exchange, redirect.to())
                        + value.substring(start + from.length());
            }
        }
        return value;
    }

    /**
     * The protocols a client's {@code Upgrade} field asks for that the backend may be asked to switch to: all it names
     * but h2c, whose tunnel would carry HTTP/2 requests edge never sees (past its locations, limits and access log: the
     * "h2c smuggling" of proxies that pass it); null where none is left. The field's own text where nothing was taken
     * out.
     */
    static String upgradeProtocols(HttpHeaders clientHeaders) {
        List<String> asked = clientHeaders.getAll(HttpHeaderNames.UPGRADE);
        StringBuilder kept = new StringBuilder();
        for (String value : asked) {
            for (String token : value.split(",")) {
                String protocol = token.strip();
                if (!protocol.isEmpty() && !protocol.toLowerCase(Locale.ROOT).startsWith("h2c")) {
                    kept.append(kept.length() == 0 ? "" : ", ").append(protocol);
                }
            }
        }
        return kept.length() == 0 ? null : kept.toString();
    }

    private static boolean isHopByHop(String lowerName, List<String> connectionTokens) {
        return HOP_BY_HOP.contains(lowerName) || lowerName.startsWith("proxy-") || lowerName.equals("proxy")
                || connectionTokens.contains(lowerName);
    }

    /** The header names a Connection header lists, lower case ("close" and "keep-alive" among them, harmlessly). */
    private static List<String> connectionTokens(HttpHeaders headers) {
        List<String> tokens = new ArrayList<>();
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String name = token.strip().toLowerCase(Locale.ROOT);
                if (!name.isEmpty()) {
                    tokens.add(name);
                }
            }
        }
        return tokens;
    }

}
