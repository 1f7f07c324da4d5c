package io.edge.core.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
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

    private final boolean enabled;

    public AccessLog(boolean enabled) {
        this.enabled = enabled && LOG.isInfoEnabled();
    }

    /** False when {@link #log} would write nothing, so callers can skip gathering its arguments. */
    boolean isEnabled() {
        return enabled;
    }

    /**
     * Logs {@code request}'s line as the client sent it ({@code uri}, {@code version}: routing may rewrite the
     * request's), with its referer and user agent; see {@link #log(InetSocketAddress, String, int, long, String, String,
     * long, UpstreamTimes)}.
     */
    void log(InetSocketAddress remote, HttpRequest request, String uri, HttpVersion version, int status,
             long bodyBytes, long startNanos, UpstreamTimes upstream) {
        if (!enabled) {
            return;
        }
        HttpHeaders headers = request.headers();
        log(remote, request.method() + " " + uri + " " + version, status, bodyBytes,
                headers.get(HttpHeaderNames.REFERER), headers.get(HttpHeaderNames.USER_AGENT), startNanos, upstream);
    }

    /**
     * @param remote   the client's address, or null when the channel has none any more ({@code -} is logged)
     * @param upstream the backend's timings, or null when no backend answered
     */
    void log(InetSocketAddress remote, String requestLine, int status, long bodyBytes, String referer, String userAgent,
             long startNanos, UpstreamTimes upstream) {
        if (!enabled) {
            return;
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        StringBuilder line = new StringBuilder(160)
                .append(remote == null ? "-" : NetUtil.toAddressString(remote.getAddress()))
                .append(" - - [").append(TIME.format(ZonedDateTime.now())).append("] \"");
        appendEscaped(line, requestLine);
        line.append("\" ").append(status).append(' ').append(bodyBytes).append(" \"");
        appendEscaped(line, referer == null ? "-" : referer);
        line.append("\" \"");
        appendEscaped(line, userAgent == null ? "-" : userAgent);
        line.append("\" ").append(String.format(Locale.ROOT, "%.3f", seconds));
        if (upstream == null) {
            line.append(" - - -");
        } else {
            line.append(String.format(Locale.ROOT, " %.3f %.3f %.3f", upstream.queueNanos() / 1e9,
                    upstream.connectNanos() / 1e9, upstream.responseNanos() / 1e9));
        }
        LOG.info(line.toString());
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
                for (byte b : new String(Character.toChars(codePoint)).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    out.append(String.format(Locale.ROOT, "\\x%02X", b & 0xff));
                }
            } else {
                out.append(c);
            }
        }
    }
}
