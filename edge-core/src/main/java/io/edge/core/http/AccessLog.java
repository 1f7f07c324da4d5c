package io.edge.core.http;

import io.edge.conf.LogFormat;
import io.edge.conf.Return;
import io.edge.fastcgi.cgi.CgiParams;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one line per request in the combined log format, followed by the request time in seconds
 * (nginx's {@code $request_time}) and, for a request a backend answered, the upstream timings in seconds
 * (HAProxy's Tw, Tc and Tr; nginx's {@code $upstream_*}): the wait in the backend group's queue, the connect of a
 * new backend connection (0 for a kept-alive one), both summed over retries, and the backend's answer from the
 * request's sending to its end (the last attempt's); {@code - - -} where no backend connection was taken. Lines
 * go to the {@code edge.access} logger, which the launcher routes to an asynchronous appender so an event loop
 * never waits for the log file.
 */
public final class AccessLog {

    private static final Logger LOG = LoggerFactory.getLogger("edge.access");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);

    /** nginx's {@code $time_iso8601}: an offset of zero as {@code +00:00}, not {@code Z}. */
    private static final DateTimeFormatter ISO_8601 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx",
            Locale.ROOT);
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    private final boolean enabled;
    /** The configured line ({@code access-log-format}), or null for the combined format with the times. */
    private final LogFormat format;
    /** The line names {@code $bytes_sent}: each exchange tells whether its head went ({@link #countsHead}). */
    private final boolean countsHead;

    public AccessLog(boolean enabled) {
        this(enabled, null);
    }

    /** @param format the configured line, or null for the combined format with the times */
    public AccessLog(boolean enabled, LogFormat format) {
        this.enabled = enabled && LOG.isInfoEnabled();
        this.format = format;
        this.countsHead = this.enabled && format != null
                && format.parts().stream().anyMatch(part -> "bytes_sent".equals(part.variable()));
    }

    /** Whether an exchange is to tell whether its answer's head went to the client: the line counts it. */
    boolean countsHead() {
        return countsHead;
    }

    /** False when {@link #log} would write nothing, so callers can skip gathering its arguments. */
    boolean isEnabled() {
        return enabled;
    }

    /**
     * Logs {@code request}'s line as the client sent it ({@code uri}, {@code version}: routing may rewrite the
     * request's), with its referer and user agent; see {@link #log(InetSocketAddress, String, int, long, String, String,
     * long, UpstreamTimes, HttpHeaders)}.
     *
     * @param exchange the request's exchange ({@link LogFormat}'s path, its user, its site), or null for none
     */
    void log(InetSocketAddress remote, HttpRequest request, String uri, HttpVersion version, int status,
             long bodyBytes, long startNanos, UpstreamTimes upstream, Exchange exchange, HttpHeaders sent) {
        log(remote, request, uri, version, status, bodyBytes, startNanos, upstream, exchange, sent, null);
    }

    /**
     * As above, for a request answered outside any exchange ({@code exchange} null), {@code unanswered} saying its
     * connection's and its number.
     */
    void log(InetSocketAddress remote, HttpRequest request, String uri, HttpVersion version, int status,
             long bodyBytes, long startNanos, UpstreamTimes upstream, Exchange exchange, HttpHeaders sent,
             Unanswered unanswered) {
        if (!enabled) {
            return;
        }
        HttpMethod method = exchange != null ? exchange.sentMethod() : request.method(); // as sent, a redirect's GET not
        if (format != null) {
            LOG.info(formatted(new Logged(remote, request, method + " " + uri + " " + version, uri, version,
                    status, bodyBytes, startNanos, upstream, exchange, sent, unanswered)));
            return;
        }
        HttpHeaders headers = request.headers();
        combined(remote, exchange == null ? null : exchange.authenticatedUser(),
                method + " " + uri + " " + version, status, bodyBytes,
                headers.get(HttpHeaderNames.REFERER), headers.get(HttpHeaderNames.USER_AGENT), startNanos, upstream);
    }

    /**
     * @param remote   the client's address, or null when the channel has none any more ({@code -} is logged)
     * @param upstream the backend's timings, or null when no backend answered
     * @param sent     the answer's head as it went to the client ({@code $sent_http_*}), or null for none
     */
    void log(InetSocketAddress remote, String requestLine, int status, long bodyBytes, String referer, String userAgent,
             long startNanos, UpstreamTimes upstream, HttpHeaders sent, Unanswered unanswered) {
        if (!enabled) {
            return;
        }
        if (format != null) { // a line too malformed for a request: what was sent of it alone
            LOG.info(formatted(new Logged(remote, null, requestLine, null, null, status, bodyBytes, startNanos,
                    upstream, null, sent, unanswered)));
            return;
        }
        combined(remote, null, requestLine, status, bodyBytes, referer, userAgent, startNanos, upstream);
    }

    /**
     * The default line: nginx's combined format ({@code user} the one auth-basic checked, as {@code $remote_user};
     * null: "-"), then the request time and the backend's timings.
     */
    private void combined(InetSocketAddress remote, String user, String requestLine, int status, long bodyBytes,
            String referer, String userAgent, long startNanos, UpstreamTimes upstream) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        StringBuilder line = new StringBuilder(160)
                .append(remote == null ? "-" : NetUtil.toAddressString(remote.getAddress()))
                .append(" - ");
        if (user == null || user.isEmpty()) {
            line.append('-');
        } else {
            appendEscaped(line, user);
        }
        line.append(" [").append(TIME.format(ZonedDateTime.now())).append("] \"");
        appendEscaped(line, requestLine);
        line.append("\" ").append(statusText(status)).append(' ').append(bodyBytes).append(" \"");
        appendEscaped(line, referer == null ? "-" : referer);
        line.append("\" \"");
        appendEscaped(line, userAgent == null ? "-" : userAgent);
        line.append("\" ").append(String.format(Locale.ROOT, "%.3f", seconds));
        if (upstream == null) {
            line.append(" - - -");
        } else {
            line.append(String.format(Locale.ROOT, " %.3f", upstream.queueNanos() / 1e9));
            if (upstream.connectNanos() == UpstreamTimes.NONE) {
                line.append(" - -"); // waited, and had no connection
            } else {
                line.append(String.format(Locale.ROOT, " %.3f %.3f", upstream.connectNanos() / 1e9,
                        upstream.responseNanos() / 1e9));
            }
        }
        LOG.info(line.toString());
    }

    /**
     * What a request answered outside any exchange (too malformed for one, or its head not read whole) has of nginx's
     * variables all the same: its connection's number ({@code $connection}) and its own there
     * ({@code $connection_requests}).
     */
    record Unanswered(long connection, long request) {
    }

    /**
     * What one line of {@link #format} is made of: a request's ({@code request} null for one too malformed;
     * {@code unanswered} for one without an exchange, else null).
     */
    private record Logged(InetSocketAddress remote, HttpRequest request, String requestLine, String sentUri,
                          HttpVersion version, int status, long bodyBytes, long startNanos, UpstreamTimes upstream,
                          Exchange exchange, HttpHeaders sent, Unanswered unanswered) {
    }

    /** The line {@link #format} makes of {@code logged}. */
    private String formatted(Logged logged) {
        StringBuilder line = new StringBuilder(192);
        for (Return.Part part : format.parts()) {
            if (part.literal() != null) {
                line.append(part.literal());
                continue;
            }
            String name = part.variable();
            // a map of the request's values: none for a request too malformed for an exchange
            String value = part.map() == null ? value(logged, name)
                    : logged.exchange() == null ? null : Variables.mapValue(logged.exchange(), part.map());
            if (value == null) {
                // a value the request has not: nginx's "-", nothing in a JSON string
                line.append(format.json() ? "" : "-");
                continue;
            }
            if (part.map() == null && (name.equals("uri") || name.equals("document_uri")
                    || name.equals("server_name"))) {
                // decoded text: as the bytes it was sent as (a byte that was no UTF-8 is kept as U+DC80-U+DCFF)
                value = CgiParams.utf8Bytes(value);
            }
            if (format.json()) {
                appendJson(line, value);
            } else {
                appendEscaped(line, value);
            }
        }
        return line.toString();
    }

    /**
     * nginx's variable {@code name} (see {@link LogFormat#VARIABLES}) of {@code logged}: request bytes one char each,
     * or decoded text for {@code uri}, {@code document_uri} and {@code server_name}; null where the request has none
     * (nginx's "not found"), as against an empty value ({@code $is_args} without a query).
     */
    private static String value(Logged logged, String name) {
        Exchange exchange = logged.exchange();
        HttpRequest request = logged.request();
        if (name.startsWith("sent_http_")) {
            // the answer's field, its values joined with ", " as nginx's (1.23) are
            List<String> values = logged.sent() == null ? List.of()
                    : logged.sent().getAll(name.substring("sent_http_".length()).replace('_', '-'));
            return values.isEmpty() ? null : String.join(", ", values);
        }
        if (name.startsWith("http_")) {
            String header = name.substring(5).replace('_', '-');
            if (request == null || !request.headers().contains(header)) {
                return null;
            }
            // as return's: cookies joined with "; ", as nginx's $http_cookie
            return exchange != null ? Variables.value(exchange, name) : Variables.joined(header,
                    request.headers().getAll(header));
        }
        if (name.startsWith("arg_")) {
            // as return's, but "-" for an argument the query has not (nginx's not found), nothing for "?name="
            return exchange == null ? null : RequestTarget.argumentFound(exchange.query(), name.substring(4));
        }
        if (name.startsWith("cookie_")) {
            return request == null ? null
                    : Variables.cookieFound(request.headers().getAll(HttpHeaderNames.COOKIE), name.substring(7));
        }
        return switch (name) {
            case "remote_addr" -> logged.remote() == null ? null
                    : NetUtil.toAddressString(logged.remote().getAddress());
            case "remote_user" -> exchange == null ? null : exchange.authenticatedUser();
            case "time_local" -> TIME.format(ZonedDateTime.now());
            case "time_iso8601" -> ISO_8601.format(ZonedDateTime.now());
            case "msec" -> {
                long millis = System.currentTimeMillis();
                yield millis / 1000 + "." + String.format(Locale.ROOT, "%03d", millis % 1000);
            }
            case "request" -> logged.requestLine();
            case "request_method" -> request == null ? null : request.method().name();
            // origin-form, as nginx's (an absolute-form target's scheme and host are not in it)
            case "request_uri" -> exchange != null ? request.uri() : logged.sentUri();
            // nginx's: the path it parsed (an X-Accel-Redirect's URI after it), even where it refused the request
            // then (a bad header, 431); none where it could not parse the target
            case "uri", "document_uri" -> exchange == null ? parsedTarget(logged) == null ? null
                    : parsedTarget(logged).path() : exchange.uri().isEmpty() ? null : exchange.uri();
            case "args", "query_string" -> nonEmpty(exchange != null ? exchange.query()
                    : parsedTarget(logged) == null ? "" : parsedTarget(logged).query());
            case "is_args" -> nonEmpty(exchange != null ? exchange.query()
                    : parsedTarget(logged) == null ? "" : parsedTarget(logged).query()) == null ? "" : "?";
            case "server_protocol" -> logged.version() == null ? null : logged.version().text();
            case "status" -> statusText(logged.status());
            case "body_bytes_sent" -> Long.toString(logged.bodyBytes());
            case "request_time" -> seconds(System.nanoTime() - logged.startNanos());
            case "upstream_queue_time" -> logged.upstream() == null ? null : seconds(logged.upstream().queueNanos());
            case "upstream_connect_time" -> logged.upstream() == null
                    || logged.upstream().connectNanos() == UpstreamTimes.NONE ? null
                    : seconds(logged.upstream().connectNanos());
            case "upstream_response_time" -> logged.upstream() == null
                    || logged.upstream().responseNanos() == UpstreamTimes.NONE ? null
                    : seconds(logged.upstream().responseNanos());
            case "pid" -> PID;
            // the one its headers, its script's params and its return named; made now if none did (a request too
            // malformed for an exchange has one too, as nginx's)
            case "request_id" -> exchange == null ? Variables.newRequestId() : exchange.requestId();
            case "remote_port" -> logged.remote() == null ? null
                    : logged.remote().getPort() == 0 ? "" : Integer.toString(logged.remote().getPort());
            case "upstream_cache_status", "upstream_addr", "upstream_status", "bytes_sent", "request_length",
                 "connection", "connection_requests", "request_completion", "limit_req_status", "limit_conn_status" ->
                    exchangeValue(logged, name);
            // a request too malformed for an exchange is logged as http, its scheme header unread
            case "scheme" -> exchange != null ? Variables.value(exchange, name) : "http";
            // of the site that answered: none for a request no site took
            case "host", "server_name", "server_port", "server_addr" -> exchange == null ? null
                    : Variables.value(exchange, name);
            // nginx's not found ("-") for a link that is not good, or where the location asks for none
            case "secure_link" -> exchange == null ? null : Variables.secureLink(exchange, exchange.location());
            case "secure_link_expires" -> exchange == null ? null : Variables.secureLinkExpires(exchange);
            case "ssl_protocol", "ssl_cipher", "ssl_server_name" -> exchange == null ? null
                    : nonEmpty(Variables.tls(exchange.clientChannel(), name));
            case "ssl_client_verify", "ssl_client_s_dn", "ssl_client_i_dn", "ssl_client_serial",
                 "ssl_client_fingerprint", "ssl_client_cert", "ssl_client_raw_cert", "ssl_client_escaped_cert",
                 "ssl_client_v_start", "ssl_client_v_end", "ssl_client_v_remain" -> exchange == null ? null
                    : nonEmpty(Variables.value(exchange, name));
            case "https", "http2" -> exchange == null ? null : nonEmpty(Variables.value(exchange, name));
            default -> throw new IllegalArgumentException("no variable $" + name); // the configuration checked them
        };
    }

    /** nginx's {@code $status}, three digits: {@code 000} for a request that got no answer (0). */
    static String statusText(int status) {
        return status < 100 ? String.format("%03d", status) : Integer.toString(status);
    }

    /**
     * The variables {@code name} that the exchange counted for the log ({@link ServerExchange}'s): none for a request
     * too malformed for one ({@code $request_completion} empty, as for any request whose answer did not go whole).
     */
    private static String exchangeValue(Logged logged, String name) {
        if (!(logged.exchange() instanceof ServerExchange exchange)) {
            Unanswered unanswered = logged.unanswered();
            return switch (name) {
                case "request_completion" -> "";
                // counted as nginx counts it, on a connection that had a number from its accept
                case "connection" -> unanswered == null ? null : Long.toString(unanswered.connection());
                case "connection_requests" -> unanswered == null ? null : Long.toString(unanswered.request());
                default -> null;
            };
        }
        return switch (name) {
            case "upstream_cache_status" -> exchange.cacheStatus() == null ? null : exchange.cacheStatus().name();
            case "limit_req_status" -> exchange.limitReqStatus() == null ? null : exchange.limitReqStatus().name();
            case "limit_conn_status" -> exchange.limitConnStatus() == null ? null : exchange.limitConnStatus().name();
            case "upstream_addr" -> exchange.loggedUpstreamAddresses();
            case "upstream_status" -> exchange.loggedUpstreamStatuses();
            case "bytes_sent" -> Long.toString(exchange.bytesSent());
            case "request_length" -> Long.toString(exchange.requestLength());
            case "connection" -> Long.toString(exchange.connectionSerial());
            case "connection_requests" -> Long.toString(exchange.connectionRequest());
            case "request_completion" -> exchange.completed() ? "OK" : "";
            default -> throw new IllegalArgumentException("no variable $" + name);
        };
    }

    /**
     * The target of {@code logged}, a request answered outside any exchange, as parsed: null where there is no line, or
     * its target could not be parsed (asked for a line that names {@code $uri} or {@code $args} alone).
     */
    private static RequestTarget parsedTarget(Logged logged) {
        return logged.sentUri() == null ? null : RequestTarget.parsedOrNull(logged.sentUri());
    }

    /** {@code value}, or null ("-") for "". */
    private static String nonEmpty(String value) {
        return value.isEmpty() ? null : value;
    }

    /**
     * A backend as nginx's {@code $upstream_addr} writes it: {@code ip:port} ({@code [::1]:9000}), {@code unix:/path}.
     */
    static String upstreamAddress(SocketAddress backend) {
        if (backend instanceof InetSocketAddress inet) {
            return inet.isUnresolved() ? inet.getHostString() + ":" + inet.getPort() : NetUtil.toSocketAddressString(inet);
        }
        if (backend instanceof DomainSocketAddress unix) {
            return "unix:" + unix.path();
        }
        return String.valueOf(backend);
    }

    /**
     * The bytes of a response head of {@code status} and {@code headers} as the encoder writes it: its status line
     * ({@code HTTP/1.1}, the code, the reason phrase), each field as {@code name: value} and CRLF, and the empty line.
     */
    static long headLength(HttpResponseStatus status, HttpHeaders headers) {
        // the status line, and the empty line that ends the head
        long length = "HTTP/1.1 000 \r\n".length() + status.reasonPhrase().length() + "\r\n".length();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> fields = headers.iteratorCharSequence();
             fields.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> field = fields.next();
            length += field.getKey().length() + 2 + field.getValue().length() + 2;
        }
        return length;
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e9);
    }

    /**
     * Appends {@code bytes} (one byte per char) as a JSON string's content, nginx's {@code escape=json}: quotes,
     * backslashes and controls escaped; UTF-8 sequences as their characters, each byte that is in none as a
     * {@code \\u} escape of its own, so the line stays valid JSON whatever a client sent.
     */
    private static void appendJson(StringBuilder out, String bytes) {
        if (bytes.chars().allMatch(c -> c < 0x80)) {
            for (int i = 0; i < bytes.length(); i++) {
                appendJsonChar(out, bytes.charAt(i), false);
            }
            return;
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
        ByteBuffer in = ByteBuffer.wrap(bytes.getBytes(StandardCharsets.ISO_8859_1));
        CharBuffer chars = CharBuffer.allocate(bytes.length());
        while (in.hasRemaining()) {
            CoderResult result = utf8.decode(in, chars, true);
            chars.flip();
            while (chars.hasRemaining()) {
                appendJsonChar(out, chars.get(), false);
            }
            chars.clear();
            if (result.isError()) {
                for (int i = 0; i < result.length(); i++) {
                    appendJsonChar(out, (char) (in.get() & 0xff), true); // a byte of no UTF-8 sequence
                }
            }
        }
    }

    /** One char of a JSON string; {@code asByte}: one above 0x7F is a byte that was no UTF-8, a {@code \\u} escape. */
    private static void appendJsonChar(StringBuilder out, char c, boolean asByte) {
        switch (c) {
            case '"' -> out.append("\\\"");
            case '\\' -> out.append("\\\\");
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            case '\b' -> out.append("\\b");
            case '\f' -> out.append("\\f");
            default -> {
                if (c < 0x20 || c == 0x7f || asByte && c >= 0x80 || Character.isSurrogate(c)
                        || c == '\u2028' || c == '\u2029') {
                    out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
        }
    }

    /**
     * Quotes, control characters and every byte above 0x7F from clients are escaped as nginx does ({@code \x22},
     * {@code \xC3\xA9}): a line stays one line for every reader (U+0085, NEL, is a line break to some) and is
     * ASCII. Request lines and headers arrive one byte per character (ISO-8859-1); anything wider is escaped by its
     * UTF-8 bytes.
     */
    static void appendEscaped(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0xff && (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)) {
                out.append(String.format(Locale.ROOT, "\\x%02X", (int) c));
            } else if (c > 0xff) {
                int codePoint = s.codePointAt(i);
                i += Character.charCount(codePoint) - 1;
                for (byte b : new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8)) {
                    out.append(String.format(Locale.ROOT, "\\x%02X", b & 0xff));
                }
            } else {
                out.append(c);
            }
        }
    }
}
