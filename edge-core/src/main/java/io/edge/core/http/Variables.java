package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.SecureLink;
import io.edge.conf.VariableMap;
import io.edge.conf.VariableText;
import io.edge.core.route.Router;
import io.edge.core.tls.ClientCertificates;
import io.edge.core.tls.TlsContexts;
import io.edge.fastcgi.cgi.CgiParams;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.ssl.CipherSuiteConverter;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSession;

/**
 * nginx's request variables ({@code $host}, {@code $uri}, {@code $http_origin}, {@code $request_id}, ...; see {@link
 * Return#VARIABLES}) and the texts made of them: a {@code return}'s, a {@code rewrite}'s, a location's {@code headers},
 * {@code always-headers} and {@code fastcgi-params}. The one place a variable's value is taken; each user says how it
 * is written into its text ({@link Escape}). Values are taken when asked, on the exchange's loop.
 */
public final class Variables {

    private Variables() {
    }

    /**
     * {@code text}'s value for {@code exchange}, a header's: a constant as it is, else its variables expanded with their
     * control bytes encoded ({@link Escape#FIELD}); "" (the header is left out) where nobody asked: an answer outside any
     * exchange, to a request edge could not read.
     */
    public static String field(Exchange exchange, VariableText text) {
        if (text.constant() != null) {
            return text.constant();
        }
        return exchange == null ? "" : render(exchange, text.parts(), Escape.FIELD);
    }

    /** As {@link #field(Exchange, VariableText)}, with the captures of {@code match} (a proxy-redirect's regex's). */
    public static String field(Exchange exchange, Matcher match, VariableText text) {
        if (text.constant() != null) {
            return text.constant();
        }
        return render(exchange, Captures.found(match), text.parts(), Escape.FIELD);
    }

    /**
     * As {@link #field(Exchange, VariableText)}, {@code text} being {@code location}'s, its captures those of its regex
     * on {@code uri}: an error page's always-headers, of the location the page's URI routes to.
     */
    static String field(Exchange exchange, LocationSettings location, String uri, VariableText text) {
        if (text.constant() != null) {
            return text.constant();
        }
        return exchange == null ? "" : render(exchange, location, uri, text.parts(), Escape.FIELD);
    }

    /**
     * {@code text}'s value for {@code exchange}, a FastCGI param's, as {@link #field} makes it, in the form
     * {@link CgiParams} takes (Unicode, its UTF-8 bytes sent): a byte of a header's value that is no ASCII stands as
     * the lone U+DC80 to U+DCFF it is sent as, so a client's UTF-8 reaches PHP as the client sent it, not encoded twice.
     * {@code text} is {@code location}'s fastcgi-params': its captures are its regex's on {@link Exchange#uri} (the
     * location that runs the script, whichever the exchange answers as meanwhile).
     */
    public static String param(Exchange exchange, LocationSettings location, VariableText text) {
        if (text.constant() != null) {
            return text.constant();
        }
        return paramText(render(exchange, location, exchange.uri(), text.parts(), Escape.FIELD));
    }

    /** {@code bytes}, one char each, as the text whose UTF-8 bytes {@link CgiParams#utf8Bytes} makes them again. */
    static String paramText(String bytes) {
        for (int i = 0; i < bytes.length(); i++) {
            if (bytes.charAt(i) >= 0x80) {
                StringBuilder unicode = new StringBuilder(bytes.length()).append(bytes, 0, i);
                for (int j = i; j < bytes.length(); j++) {
                    char c = bytes.charAt(j);
                    unicode.append(c < 0x80 ? c : (char) (0xDC00 | c));
                }
                return unicode.toString();
            }
        }
        return bytes;
    }

    /**
     * Each thread's maker of {@code $request_id}s ({@link #seeded}), one each so that no event loop waits on another's
     * lock. Not ThreadLocalRandom, whose ids are its seed undone (a test shows one id telling the next):
     * configurations use {@code $request_id} as a CSP nonce, as nginx's from RAND_bytes may be.
     */
    private static final ThreadLocal<SecureRandom> REQUEST_IDS = ThreadLocal.withInitial(Variables::seeded);

    /**
     * A DRBG (SHA-256 Hash_DRBG) seeded now, from the kernel's random source: the one read of it its thread makes, after
     * which each id is computation alone. The kernel's CRNG is memory (Linux 5.6 on, {@code /dev/random} waits only
     * before it is first ready, at boot), so an event loop may read it, once.
     */
    private static SecureRandom seeded() {
        SecureRandom random;
        try {
            random = SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) {
            random = new SecureRandom(); // a JDK without DRBG (every JDK since 9 has it): the platform's default
        }
        random.nextBytes(new byte[1]); // a DRBG is seeded as it is first asked
        return random;
    }

    /** A new {@code $request_id}, as nginx's: 16 random bytes (cryptographically strong) as 32 lower-case hex digits. */
    static String newRequestId() {
        byte[] bytes = new byte[16];
        REQUEST_IDS.get().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /**
     * nginx's {@code $cookie_name}: the value of the first cookie called {@code name} (compared ignoring case, as
     * nginx's) among {@code lines}, the request's Cookie fields; "" for none.
     */
    static String cookie(List<String> lines, String name) {
        String found = cookieFound(lines, name);
        return found == null ? "" : found;
    }

    /** As {@link #cookie}, null where no line has a cookie {@code name} ("" for {@code name=}). */
    static String cookieFound(List<String> lines, String name) {
        for (String line : lines) {
            int start = 0;
            while (start < line.length()) {
                int end = line.indexOf(';', start);
                if (end < 0) {
                    end = line.length();
                }
                int at = start;
                while (at < end && (line.charAt(at) == ' ' || line.charAt(at) == '\t')) {
                    at++;
                }
                int equals = at + name.length();
                if (equals < end && line.charAt(equals) == '=' && line.regionMatches(true, at, name, 0, name.length())) {
                    return line.substring(equals + 1, end).strip();
                }
                start = end + 1;
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
        LITERAL,
        /**
         * For a header's or a FastCGI param's value: every value as the bytes it was sent as (a decoded {@code $uri} as
         * its UTF-8 bytes), one char each, its control bytes but tab percent-encoded ({@code %0D%0A}), so that a value
         * can never end a header line, nor cut a param where PHP reads it as a C string.
         */
        FIELD
    }

    /**
     * {@code text} for this request, its variables' values written as {@code escape} says, its captures those of the
     * answering location's regex on {@link Exchange#uri} (an X-Accel-Redirect's URI on its location's regex).
     */
    static String render(Exchange exchange, List<Return.Part> text, Escape escape) {
        return render(exchange, exchange.location(), exchange.uri(), text, escape);
    }

    /** As above, with the captures {@code location}'s regex (none without one) makes of {@code path}. */
    static String render(Exchange exchange, LocationSettings location, String path, List<Return.Part> text,
            Escape escape) {
        return render(exchange, location == null ? null : location.regex(), path, text, escape);
    }

    /** As above, with the captures {@code regex} (none where null) makes of {@code subject}. */
    static String render(Exchange exchange, Pattern regex, String subject, List<Return.Part> text, Escape escape) {
        return render(exchange, Captures.of(exchange, regex, subject), text, escape);
    }

    /** As above, with {@code captures}. */
    static String render(Exchange exchange, Captures captures, List<Return.Part> text, Escape escape) {
        StringBuilder out = new StringBuilder(64);
        for (Return.Part part : text) {
            if (part.literal() != null) {
                // the configuration's text: in a URL, its non-ASCII characters as their UTF-8 bytes encoded
                appendText(out, part.literal(), escape == Escape.NONE || escape == Escape.FIELD ? escape
                        : Escape.LITERAL);
                continue;
            }
            String name = part.variable();
            if (part.isCapture()) {
                // null where not routed by its regex (an internal redirect's path): no captures. It does not give up
                // where it routed the path: the same search, in a budget of its own; once an answer
                String value = captures.value(part);
                appendText(out, value == null ? "" : value, escape);
                continue;
            }
            String value = part.map() != null ? mapValue(exchange, part.map()) : value(exchange, name);
            if (part.map() == null && (name.equals("uri") || name.equals("document_uri"))) {
                appendText(out, value, escape);
            } else {
                // As sent: Netty reads a head's bytes one char each (ISO-8859-1), which a UTF-8 client's "é" is two of
                appendBytes(out, value.getBytes(StandardCharsets.ISO_8859_1), escape == Escape.NONE
                        || escape == Escape.FIELD ? escape : Escape.LITERAL);
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
     * Escape#LITERAL}: the configuration's, or sent as a URL's) blanks, controls and non-ASCII only; a field's
     * ({@link Escape#FIELD}) controls only.
     */
    private static void appendBytes(StringBuilder out, byte[] bytes, Escape escape) {
        if (escape == Escape.NONE) {
            out.append(new String(bytes, StandardCharsets.UTF_8));
            return;
        }
        RequestTarget.percentEncode(out, bytes, switch (escape) {
            case LITERAL -> c -> c > ' ' && c < 0x7f;
            case FIELD -> c -> c >= ' ' && c != 0x7f || c == '\t';
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
     * The value of the request variable {@code name} (see {@link Return#VARIABLES}, {@link Return#PREFIXES}); "" where
     * the request has none. Header-made values are as sent, one char per byte; {@code $uri} is decoded text. A
     * header sent in several lines is all of them, as nginx's (1.23 on; 1.22 for X-Forwarded-For and Cookie): joined
     * by ", " (Cookie by "; "). The first alone logged a client's forged X-Forwarded-For and never the line HAProxy's
     * option forwardfor adds after it.
     */
    static String value(Exchange exchange, String name) {
        if (name.startsWith("cookie_")) {
            return cookie(exchange.request().headers().getAll(HttpHeaderNames.COOKIE), name.substring(7));
        }
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
            case "uri", "document_uri" -> exchange.uri();
            case "args", "query_string" -> exchange.query();
            case "is_args" -> exchange.query().isEmpty() ? "" : "?";
            case "request_method" -> exchange.request().method().name();
            case "remote_addr" -> NetUtil.toAddressString(exchange.remoteAddress().getAddress());
            case "remote_port" -> Integer.toString(exchange.remoteAddress().getPort());
            case "server_protocol" -> exchange.sentVersion().text();
            case "https" -> exchange.https() ? "on" : "";
            // nginx's: "h2" on an HTTP/2 stream over TLS, "h2c" on one in the clear, "" on HTTP/1.x
            case "http2" -> exchange.sentVersion().majorVersion() != 2 ? "" : exchange.endsTls() ? "h2" : "h2c";
            // nginx's, of the connection's own TLS: "" on a plain one (or behind a proxy that ended it)
            case "ssl_protocol", "ssl_cipher", "ssl_server_name" -> tls(exchange.clientChannel(), name);
            // nginx's of the connection's client certificate (ssl_verify_client): "" on a plain one or without one
            case "ssl_client_verify", "ssl_client_s_dn", "ssl_client_i_dn", "ssl_client_serial",
                 "ssl_client_fingerprint", "ssl_client_cert", "ssl_client_raw_cert", "ssl_client_escaped_cert",
                 "ssl_client_v_start", "ssl_client_v_end", "ssl_client_v_remain" ->
                    ClientCertificates.variable(exchange.clientChannel(), name);
            case "content_type" -> exchange.request().headers().get(HttpHeaderNames.CONTENT_TYPE, "");
            case "content_length" -> contentLength(exchange);
            case "request_id" -> exchange.requestId();
            // the response cache's word, known before any answer goes (add_header X-Cache-Status, nginx's idiom)
            case "upstream_cache_status" -> exchange.cacheStatus() == null ? "" : exchange.cacheStatus().name();
            case "secure_link" -> orEmpty(secureLink(exchange, exchange.location()));
            // nginx's proxy module's: the backend's Host, and X-Forwarded-For with the client appended
            case "proxy_host" -> exchange.location() == null || exchange.location().proxy() == null ? ""
                    : exchange.location().proxy().host(exchange.backendGroup());
            case "proxy_add_x_forwarded_for" -> forwardedFor(exchange);
            case "secure_link_expires" -> orEmpty(secureLinkExpires(exchange));
            default -> throw new IllegalArgumentException("no variable $" + name); // the configuration checked them
        };
    }

    /** nginx's {@code $proxy_add_x_forwarded_for}: the request's X-Forwarded-For, ", ", its client's address. */
    private static String forwardedFor(Exchange exchange) {
        String client = NetUtil.toAddressString(exchange.remoteAddress().getAddress());
        List<String> sent = exchange.request().headers().getAll("X-Forwarded-For");
        return sent.isEmpty() ? client : String.join(", ", sent) + ", " + client;
    }

    /**
     * nginx's {@code $secure_link} of {@code location}'s secure-link ({@link SecureLink#check}) for this request, at
     * edge's clock: "" for a link missing, malformed or wrong, "0" for one past its time, "1" for a good one; null (not
     * found, "-" in the log, "" elsewhere) where the location has none or the link is not good, as nginx's. The md5's
     * {@code $secure_link_expires} is this link's, whichever location the exchange is in now (an internal redirect's
     * checks name the one it lands in). Worked out once per request and location ({@link Exchange#secureLinkVerdict}),
     * as nginx keeps the variable: the check, the headers and the log line read one verdict.
     */
    static String secureLink(Exchange exchange, LocationSettings location) {
        SecureLink link = location == null ? null : location.secureLink();
        if (link == null) {
            return null;
        }
        String verdict = exchange.secureLinkVerdict(location);
        if (verdict == null) {
            String value = sent(exchange, link.link());
            verdict = SecureLink.check(value, () -> {
                StringBuilder signed = new StringBuilder(64);
                for (Return.Part part : link.md5()) {
                    if ("secure_link_expires".equals(part.variable())) {
                        signed.append(orEmpty(SecureLink.expiresText(value)));
                    } else {
                        signed.append(sent(exchange, List.of(part)));
                    }
                }
                return signed.toString();
            }, System.currentTimeMillis() / 1000);
            exchange.secureLinkVerdict(location, verdict);
        }
        return verdict.equals(SecureLink.INVALID) ? null : verdict;
    }

    /**
     * nginx's {@code $secure_link_expires} for this request: the expiry time its location's secure-link carries, as
     * sent; null (not found) where there is none, or it is no time nginx takes.
     */
    static String secureLinkExpires(Exchange exchange) {
        SecureLink link = exchange.location() == null ? null : exchange.location().secureLink();
        return link == null ? null : SecureLink.expiresText(sent(exchange, link.link()));
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }

    /**
     * The value of {@code map} for this request, as a header's is (one char per byte): worked out when first asked,
     * then kept for the request ({@link Exchange#mapValues}), as nginx's map.
     */
    static String mapValue(Exchange exchange, VariableMap map) {
        Map<VariableMap, String> values = exchange.mapValues();
        String value = values.get(map);
        if (value == null) {
            VariableMap.Found found = map.find(sent(exchange, map.source()));
            value = sent(exchange, found.value(), found.captures());
            values.put(map, value);
        }
        return value;
    }

    /**
     * {@code text} as the bytes it stands for, one char each: the configuration's text and a decoded {@code $uri} as
     * their UTF-8 bytes, the request's values as sent, a capture of {@code captures} (a map's regex's) as found.
     */
    static String sent(Exchange exchange, List<Return.Part> text, Matcher captures) {
        return sent(exchange, text, captures == null ? Captures.NONE : Captures.found(captures));
    }

    /** As above, without captures. */
    static String sent(Exchange exchange, List<Return.Part> text) {
        return sent(exchange, text, Captures.NONE);
    }

    /** As above, with {@code captures}. */
    static String sent(Exchange exchange, List<Return.Part> text, Captures captures) {
        StringBuilder out = new StringBuilder(32);
        for (Return.Part part : text) {
            String name = part.variable();
            if (part.literal() != null) {
                out.append(CgiParams.utf8Bytes(part.literal()));
            } else if (part.map() != null) {
                out.append(mapValue(exchange, part.map()));
            } else if (part.isCapture()) {
                String value = captures.value(part);
                out.append(value == null ? "" : value);
            } else if (name.equals("uri") || name.equals("document_uri")) {
                out.append(CgiParams.utf8Bytes(value(exchange, name)));
            } else {
                out.append(value(exchange, name));
            }
        }
        return out.toString();
    }

    /**
     * nginx's {@code $content_length}: the request's Content-Length; a chunked body's length once read whole, as nginx
     * gives it once it read the body (a script's fastcgi-params, the headers of its answer), the CONTENT_LENGTH param
     * edge sends; else none.
     */
    private static String contentLength(Exchange exchange) {
        String header = exchange.request().headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (header != null) {
            return header;
        }
        long read = exchange.bodyLengthRead();
        return read >= 0 && HttpUtil.isTransferEncodingChunked(exchange.request()) ? Long.toString(read) : "";
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

    /**
     * {@code $ssl_protocol} ("TLSv1.3"), {@code $ssl_cipher} (OpenSSL's name, as nginx's: "TLS_AES_128_GCM_SHA256",
     * "ECDHE-RSA-AES128-GCM-SHA256") or {@code $ssl_server_name} (the client hello's SNI name) of {@code clientChannel};
     * "" on a plain connection.
     */
    static String tls(Channel clientChannel, String name) {
        SSLSession session = clientChannel == null ? null : TlsContexts.session(clientChannel);
        if (session == null) {
            return "";
        }
        return switch (name) {
            case "ssl_protocol" -> session.getProtocol();
            case "ssl_cipher" -> openSslName(session.getCipherSuite());
            default -> Objects.requireNonNullElse(TlsContexts.serverName(clientChannel), "");
        };
    }

    /** OpenSSL's name of a cipher suite the JDK names by IANA's, as nginx's $ssl_cipher says it. */
    private static String openSslName(String suite) {
        String name = CipherSuiteConverter.toOpenSsl(suite, false);
        return name == null ? suite : name;
    }
}
